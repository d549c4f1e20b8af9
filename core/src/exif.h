// Internal: the EXIF Orientation tag (0x0112), read from an image's raw bytes, and applying it.
//
// Only what DecodeOptions::apply_exif_orientation needs: the orientation value 1..8 of IFD0. The
// readers are bounds-checked at every step and treat anything they do not understand (truncated
// segments, offsets outside the data, unknown byte order, a wrong type or count, a value outside
// 1..8) as "no orientation" and return 1: a malformed EXIF block must never make an otherwise
// decodable image fail, and never crash. They walk only IFD0 and never follow IFD links (next-IFD,
// Exif or GPS sub-IFDs), so a loop of IFD pointers cannot make them spin.
//
// Where the TIFF block is found:
//   JPEG: the first APP1 segment whose payload starts "Exif\0\0", among the segments before SOS.
//   PNG:  the first eXIf chunk (payload is the TIFF block itself).
//   WebP: the EXIF chunk of an extended (VP8X) file; a leading "Exif\0\0", which some writers
//         add, is skipped.
#pragma once

#include <cstdint>
#include <span>

#include "hashmatch/core/image.h"

namespace hashmatch::exif {

// Orientation values as the TIFF/EXIF specification numbers them: where row 0 and column 0 of the
// stored pixels belong on the displayed picture.
enum Orientation : int {
  kTopLeft = 1,      // as stored
  kTopRight = 2,     // mirrored left-right
  kBottomRight = 3,  // rotated 180
  kBottomLeft = 4,   // mirrored top-bottom
  kLeftTop = 5,      // transposed (mirror along the main diagonal)
  kRightTop = 6,     // stored rotated 90 counter-clockwise: display rotates 90 clockwise
  kRightBottom = 7,  // transversed (mirror along the anti-diagonal)
  kLeftBottom = 8,   // stored rotated 90 clockwise: display rotates 90 counter-clockwise
};

// Orientation from a TIFF block ("II*\0" or "MM\0*" header, IFD0). 1 when absent or malformed.
int OrientationFromTiff(std::span<const uint8_t> tiff);

// Per container; each returns 1 when there is no usable EXIF block.
int OrientationFromJpeg(std::span<const uint8_t> jpeg);
int OrientationFromPng(std::span<const uint8_t> png);
int OrientationFromWebp(std::span<const uint8_t> webp);

// Dispatches on the sniffed format; 1 for unknown formats.
int OrientationFromImageBytes(std::span<const uint8_t> bytes);

// Rewrites `image` so that it shows as the orientation says (width and height swap for 5..8).
// Values outside 2..8 leave it unchanged. Needs a second pixel buffer of the same size.
void ApplyOrientation(int orientation, Image* image);

}  // namespace hashmatch::exif
