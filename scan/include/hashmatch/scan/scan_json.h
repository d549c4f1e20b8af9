// The JSON forms of scan results: one line per item (`hashmatch scan`'s output, the same from the
// Python binding) and the summary. Deterministic: the same item gives the same bytes (no times, no
// thread-dependent order), which is what makes a resumed scan's output comparable byte for byte.
//
// Item line (one line, no spaces; fields in this order, optional ones only when they apply):
//   {"index":N,"path":"...","member":"..."        member: tar items only
//    ,"result":"match"|"suppressed"|"clean"|"error"
//    ,"bytes":N
//    ,"error":{"code":"invalid_argument","message":"..."}   result "error" only
//    ,"pdq":"hex","quality":Q                      when decoded (PDQ of the item as stored)
//    ,"pdq_fast":true                              PDQ came from the JPEG fast path (--fast)
//    ,"md5":"hex", "sha1":..., "sha256":...,       the computed digests, when the bytes were read
//    ,"ahash":..., "dhash":..., "phash":..., "whash":...   the computed image hashes, when decoded
//    ,"low_quality":true
//    ,"matches":[HIT...],"suppressed":[HIT...],"suppressors":[HIT...]   when non-empty
//    ,"truncated":true}
// HIT: {"signal":"pdq","set":"S","set_version":V,"key":"K","distance":D,"orientation":"rotate90"
//       (dihedral PDQ only),"listed_hash":"hex","classification":"...","tags":["..."]}
// An item that failed but matched by digest has result "match" and its "error" too.
#pragma once

#include <string>

#include "hashmatch/core/batch_hash.h"
#include "hashmatch/scan/scan.h"

namespace hashmatch {

// "match", "suppressed", "clean" or "error" (a matched item is "match" even if it then failed).
const char* ScanItemResultName(const ScanItemResult& item);

// The item's line, with a trailing '\n'. `signals`: the computed signals (ScanOptions::signals;
// PDQ and MD5, which Scan always computes, are printed whether or not they are in it); only those
// hashes are printed.
std::string ScanItemJson(const ScanItemResult& item, const SignalSet& signals);

// {"items":N,"scanned":N,"matched":N,"suppressed":N,"failed":N,"failed_by_reason":{...},
//  "low_quality":N,"skipped_files":N,"bytes":N,"seconds":S,"images_per_second":R,
//  "resumed_items":N,"store_sequence":N,"sets":[{"set":"S","version":V,"kind":"match"},...]}
// with a trailing '\n'.
std::string ScanSummaryJson(const ScanSummary& summary);

}  // namespace hashmatch
