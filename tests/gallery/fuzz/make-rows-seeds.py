#!/usr/bin/env python3
# make-rows-seeds.py: the seeds of corpus/gallery-rows: rows as the gallery writes them (the
# Depict result form and an early gallery's {"<TASK>": answer}), and hostile ones (non-standard
# JSON, escapes that decode to invalid UTF-8, deep nesting, wrong types, huge numbers).
#   tests/gallery/fuzz/make-rows-seeds.py [OUTDIR]
# SPDX-License-Identifier: GPL-3.0-or-later
import os, sys
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), 'corpus', 'gallery-rows')
os.makedirs(out, exist_ok=True)
T = '{"total":1.5,"vision":0.5}'
rows = {
  'seed-od': ('<OD>', '', '</s><s>cat<loc_1><loc_2><loc_3><loc_4></s>', '[2,0,8,3]',
              '{"version":2,"task":"<OD>","kind":"boxes","image_size":[50,3],"bboxes":[[1.0,0.5,10.0,2.0]],"labels":["cat"]}', T),
  'seed-caption': ('<CAPTION>', '', 'A cat.', '[2,0,83,2]',
                   '{"version":2,"task":"<CAPTION>","kind":"text","image_size":[50,3],"text":"A cat."}', T),
  'seed-early-form': ('<OD>', '', '', '[]', '{"<OD>": {"bboxes": [[1, 2, 10, 11]], "labels": ["cat"]}}', '{}'),
  'seed-ocr-region': ('<OCR_WITH_REGION>', '', '', '[2]',
                      '{"<OCR_WITH_REGION>": {"quad_boxes": [[1,2,3,4,5,6,7,8]], "labels": ["EXIT"]}}', T),
  'seed-grounding': ('<CAPTION_TO_PHRASE_GROUNDING>', 'a cat', '', '[2]',
                     '{"version":2,"task":"<CAPTION_TO_PHRASE_GROUNDING>","kind":"boxes","image_size":[50,3],"bboxes":[[0,0,1,1]],"labels":["a cat"]}', T),
  'seed-polygons': ('<REFERRING_EXPRESSION_SEGMENTATION>', 'cat', '', '[2]',
                    '{"<REFERRING_EXPRESSION_SEGMENTATION>": {"polygons": [[[1,2,3,4,5,6]]], "labels": [""]}}', T),
  'hostile-single-quotes': ('<OD>', '', '', '[2]', "{'<OD>':'\"',\"a\":[[[[[[1]]]]]]}", T),
  'hostile-comment': ('<CAPTION>', '', '', '/* [ */ [2]', '{/* " */"<CAPTION>": "x"}', '{}'),
  'hostile-escapes': ('<CAPTION\\350>', '', '', '[2]',
                      '{"version":1,"task":"<CAPTION\\350>","kind":"text","image_size":[10,10],"text":"\\udc00"}', T),
  'hostile-bytes': ('<CAPTION>\udce8', '\udcff', '\udcc0\udcaf', '[2]', '{"<CAPTION>": "\udce8"}', T),
  'hostile-deep': ('<OD>', '', '', '[' * 100 + ']' * 100, '{"<OD>":' + '[' * 100 + ']' * 100 + '}', '[' * 80 + ']' * 80),
  'hostile-types': ('<OD>', '', '', '["a", 1.5, null, {}]',
                    '{"version":"2","task":5,"kind":[],"image_size":{"w":1},"bboxes":"x","labels":7}', '[1,2]'),
  'hostile-numbers': ('<OD>', '', '', '[99999999999999999999, -1, 2147483648]',
                      '{"version":2,"task":"<OD>","kind":"boxes","image_size":[1e400,-5],"bboxes":[[1e308,-1e308,0,0]],"labels":["x"]}', '{"total":1e400}'),
  'hostile-trailing': ('<OD>', '', '', '[2] [3]', '{"<OD>":{}} {}', '{} x'),
}
for name, fields in rows.items():
    with open(os.path.join(out, name), 'wb') as f:
        f.write(b'\0'.join(x.encode('utf-8', 'surrogateescape') if isinstance(x, str) else x for x in fields))
