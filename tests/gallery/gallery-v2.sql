-- The Depict gallery schema, version 2, exactly as a new gallery got it (version 1, then the
-- 1 -> 2 migration): the migration tests build a v2 database from this file.
-- SPDX-License-Identifier: GPL-3.0-or-later
CREATE TABLE images (  id INTEGER PRIMARY KEY,  hash TEXT NOT NULL UNIQUE,  size INTEGER NOT NULL,  width INTEGER NOT NULL DEFAULT 0,  height INTEGER NOT NULL DEFAULT 0,  orientation INTEGER NOT NULL DEFAULT 1,  added INTEGER NOT NULL);
CREATE TABLE image_paths (  path TEXT PRIMARY KEY,  image_id INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,  size INTEGER NOT NULL,  mtime INTEGER NOT NULL,  seen INTEGER NOT NULL);
CREATE INDEX image_paths_image ON image_paths (image_id);
CREATE TABLE runs (  id INTEGER PRIMARY KEY,  image_id INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,  task TEXT NOT NULL,  text_input TEXT NOT NULL DEFAULT '',  model_name TEXT NOT NULL,  weights_hash TEXT NOT NULL,  num_beams INTEGER NOT NULL,  max_new_tokens INTEGER NOT NULL,  raw_text TEXT NOT NULL,  token_ids TEXT NOT NULL,  result TEXT NOT NULL,  timings TEXT NOT NULL,  created INTEGER NOT NULL,  text_caption TEXT NOT NULL DEFAULT '',  text_ocr TEXT NOT NULL DEFAULT '',  text_labels TEXT NOT NULL DEFAULT '');
CREATE INDEX runs_image ON runs (image_id);
CREATE INDEX runs_task ON runs (task, image_id);
CREATE INDEX runs_created ON runs (created);
CREATE TABLE tags (  image_id INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,  name TEXT NOT NULL,  run_id INTEGER REFERENCES runs (id) ON DELETE SET NULL,  PRIMARY KEY (image_id, name)) WITHOUT ROWID;
CREATE INDEX tags_name ON tags (name);
CREATE TABLE image_text (  image_id INTEGER PRIMARY KEY REFERENCES images (id) ON DELETE CASCADE,  captions TEXT NOT NULL DEFAULT '',  ocr TEXT NOT NULL DEFAULT '',  labels TEXT NOT NULL DEFAULT '',  tags TEXT NOT NULL DEFAULT '');
CREATE VIRTUAL TABLE image_fts USING fts5 (  captions, ocr, labels, tags,  content = 'image_text', content_rowid = 'image_id',  tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO image_fts (image_fts, rank) VALUES ('rank', 'bm25(4.0, 4.0, 2.0, 3.0)');
CREATE TRIGGER image_text_ai AFTER INSERT ON image_text BEGIN  INSERT INTO image_fts (rowid, captions, ocr, labels, tags)    VALUES (new.image_id, new.captions, new.ocr, new.labels, new.tags);
END;
CREATE TRIGGER image_text_ad AFTER DELETE ON image_text BEGIN  INSERT INTO image_fts (image_fts, rowid, captions, ocr, labels, tags)    VALUES ('delete', old.image_id, old.captions, old.ocr, old.labels, old.tags);
END;
CREATE TRIGGER image_text_au AFTER UPDATE ON image_text BEGIN  INSERT INTO image_fts (image_fts, rowid, captions, ocr, labels, tags)    VALUES ('delete', old.image_id, old.captions, old.ocr, old.labels, old.tags);
  INSERT INTO image_fts (rowid, captions, ocr, labels, tags)    VALUES (new.image_id, new.captions, new.ocr, new.labels, new.tags);
END;
ALTER TABLE tags ADD COLUMN source INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tags ADD COLUMN removed INTEGER NOT NULL DEFAULT 0;
CREATE INDEX runs_done ON runs  (image_id, task, model_name, weights_hash, num_beams, max_new_tokens, text_input);
DROP INDEX runs_image;
CREATE INDEX images_added ON images (added);
PRAGMA application_id = 1146110804;
PRAGMA user_version = 2;
