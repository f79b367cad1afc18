#!/bin/sh
# make-seeds.sh: (re)makes the seed files of corpus/image with ImageMagick (with its HEIC,
# AVIF and WebP coders) and python3: tiny files of every format, EXIF orientations, an EXIF
# thumbnail, and the hostile shapes of tests/image/test-image-hostile.c.
#
#   tests/image/fuzz/make-seeds.sh [OUTDIR]    (default: tests/image/fuzz/corpus/image)
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/corpus/image}
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The asymmetric pattern, 16 × 12 and 128 × 96 (for a large-enough EXIF thumbnail).
quad () {
  convert -size "$1" xc:red -fill lime -draw "rectangle $2,0 $3,$4" \
    -fill blue -draw "rectangle 0,$5 $2,$6" -fill yellow -draw "rectangle $3,$5 $7,$6" "$8"
}
quad 16x12 8 15 5 6 11 15 "$tmp/q.png"
quad 128x96 64 127 47 48 95 127 "$tmp/big.png"

convert "$tmp/q.png" -define png:color-type=2 "$out/seed-rgb.png"
convert "$tmp/q.png" "$out/seed-palette.png"
convert "$tmp/q.png" -alpha set -channel A -evaluate set 50% -depth 16 "$out/seed-rgba16.png"
convert "$tmp/q.png" -colorspace Gray "$out/seed-gray.png"
convert "$tmp/q.png" -interlace PNG -define png:color-type=2 "$out/seed-interlaced.png"
convert "$tmp/q.png" -quality 50 "$out/seed-baseline.jpg"
convert "$tmp/q.png" -quality 50 -interlace JPEG "$out/seed-progressive.jpg"
convert "$tmp/q.png" -colorspace Gray -quality 50 "$out/seed-gray.jpg"
convert "$tmp/q.png" -colorspace CMYK -quality 50 "$out/seed-cmyk.jpg"
convert "$tmp/q.png" -compress none "$out/seed-plain.tif"
convert "$tmp/q.png" -orient RightTop -compress lzw "$out/seed-orient6.tif"
convert "$tmp/q.png" -type TrueColor "$out/seed-24.bmp"
convert "$tmp/q.png" "$out/seed-palette.bmp"
convert "$tmp/q.png" "$out/seed.gif"
convert -delay 10 "$tmp/q.png" -rotate 180 "$tmp/q.png" -loop 0 "$out/seed-animated.gif"
convert "$tmp/q.png" -quality 50 "$out/seed-lossy.webp"
convert "$tmp/q.png" -define webp:lossless=true "$out/seed-lossless.webp"
convert "$tmp/q.png" -quality 50 "$out/seed.heic"
convert "$tmp/q.png" -quality 50 "$out/seed.avif"
convert "$tmp/q.png" -rotate 90 -quality 50 "$out/seed-rotated.heic"
convert "$tmp/q.png" -quality 50 "$tmp/q.jpg"
convert "$tmp/big.png" -quality 30 "$tmp/big.jpg"
convert "$tmp/big.png" -resize 64x48 -quality 30 "$tmp/thumb.jpg"
convert "$tmp/q.png" -quality 50 -interlace JPEG "$tmp/prog.jpg"

python3 - "$tmp" "$out" <<'PY'
import struct, sys, zlib
tmp, out = sys.argv[1], sys.argv[2]
def rd(p): return open(p, 'rb').read()
def wr(name, b): open(f'{out}/{name}', 'wb').write(b)

def exif(orientation, thumb=None):
    # Little-endian TIFF: IFD0 with Orientation, IFD1 with the JPEG thumbnail.
    ifd0 = 8
    ifd1 = ifd0 + 2 + 12 + 4
    nxt = ifd1 if thumb else 0
    t = b'II*\0' + struct.pack('<I', ifd0)
    t += struct.pack('<H', 1) + struct.pack('<HHIHH', 0x0112, 3, 1, orientation, 0)
    t += struct.pack('<I', nxt)
    if thumb:
        data = ifd1 + 2 + 3 * 12 + 4
        t += struct.pack('<H', 3)
        t += struct.pack('<HHII', 0x0103, 3, 1, 6)
        t += struct.pack('<HHII', 0x0201, 4, 1, data)
        t += struct.pack('<HHII', 0x0202, 4, 1, len(thumb))
        t += struct.pack('<I', 0) + thumb
    body = b'Exif\0\0' + t
    return b'\xff\xe1' + struct.pack('>H', len(body) + 2) + body

def with_exif(jpeg, app1):
    assert jpeg[:2] == b'\xff\xd8'
    return jpeg[:2] + app1 + jpeg[2:]

q = rd(f'{tmp}/q.jpg')
for o in (3, 6, 8, 5):
    wr(f'seed-exif{o}.jpg', with_exif(q, exif(o)))
wr('seed-exif-thumbnail.jpg', with_exif(rd(f'{tmp}/big.jpg'), exif(6, rd(f'{tmp}/thumb.jpg'))))

# Hostile shapes.
def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
def png(w, h, raw, interlace=0):
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, interlace))
            + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
wr('hostile-huge.png', png(60000, 60000, bytes(16)))
wr('hostile-zero.png', png(0, 10, bytes(16)))
noise = b''.join(b'\0' + bytes((y * 7919 + x * 104729) % 251 for x in range(16 * 3)) for y in range(12))
full = png(16, 12, noise)
wr('hostile-cut.png', full[:len(full) // 2])
inter = rd(f'{out}/seed-interlaced.png')
wr('hostile-cut-interlaced.png', inter[:len(inter) - 20])
prog = rd(f'{tmp}/prog.jpg')
wr('hostile-cut-progressive.jpg', prog[:len(prog) - 40])
wr('hostile-cut.jpg', q[:len(q) // 2])
j = bytearray(q)
sof = j.index(b'\xff\xc0') + 2
j[sof + 3:sof + 7] = b'\xea\x60\xea\x60'
wr('hostile-huge.jpg', bytes(j))
g = bytearray(rd(f'{out}/seed.gif'))
g[6:10] = b'\xff\xff\xff\xff'
d = g.index(b'\x2c', 13)
g[d + 5:d + 9] = b'\xff\xff\xff\xff'
wr('hostile-huge.gif', bytes(g))
b = bytearray(rd(f'{out}/seed-24.bmp'))
b[18:26] = struct.pack('<ii', 60000, 60000)
wr('hostile-huge.bmp', bytes(b))
h = rd(f'{out}/seed.heic')
wr('hostile-cut.heic', h[:len(h) // 2])
wr('hostile-no-primary.heic', h.replace(b'pitm', b'free', 1))
wr('hostile-ftyp-only.heic', bytes([0, 0, 0, 24]) + b'ftypheic\0\0\0\0mif1heic')
w = rd(f'{out}/seed-lossy.webp')
wr('hostile-cut.webp', w[:len(w) - 10])
wr('hostile-text.jpg', b'this is not a picture\n')
wr('hostile-empty', b'')
PY
ls -l "$out" | awk '{ s += $5 } END { print NR - 1 " files, " s " bytes" }'
