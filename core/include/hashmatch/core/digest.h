// Exact digests (MD5, SHA-1, SHA-256) of bytes and of files, for lists of known files by
// cryptographic hash (NCMEC, ThreatExchange and others publish MD5 and SHA digests).
//
// Digests are computed on the raw bytes: a file is never decoded. Files are read in 1 MiB chunks,
// so their size is not limited by memory. The implementation is OpenSSL's EVP API; no OpenSSL
// header leaks into this one. All functions are thread-safe.
//
// Errors: a file that cannot be opened -> not_found (missing) or io_error; a read error ->
// io_error; a digest OpenSSL refuses (MD5 under a FIPS-only provider) -> unsupported.
#pragma once

#include <filesystem>
#include <span>

#include "hashmatch/core/hash.h"
#include "hashmatch/core/status.h"

namespace hashmatch {

Result<Md5Digest> Md5(std::span<const uint8_t> bytes);
Result<Sha1Digest> Sha1(std::span<const uint8_t> bytes);
Result<Sha256Digest> Sha256(std::span<const uint8_t> bytes);

Result<Md5Digest> Md5File(const std::filesystem::path& path);
Result<Sha1Digest> Sha1File(const std::filesystem::path& path);
Result<Sha256Digest> Sha256File(const std::filesystem::path& path);

}  // namespace hashmatch
