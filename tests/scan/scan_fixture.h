// Fixtures for the scan tests: images made in memory (JPEG and PNG through tests/image_builders.h),
// WebDataset-style tar shards written with libarchive, and a store whose sets list some of the
// images by PDQ and MD5 (codes computed here with the hashers, independently of the scanner).
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "hashmatch/core/digest.h"
#include "hashmatch/core/image.h"
#include "hashmatch/core/pdq.h"
#include "hashmatch/hashsets/hash_set_store.h"
#include "image_builders.h"
#include "photo_like_jpeg.h"

namespace hashmatch::testing {

namespace fs = std::filesystem;

// A fresh directory under the system temp dir, removed at the end of the scope.
class TempDir {
 public:
  explicit TempDir(const std::string& name) {
    std::random_device rd;
    path_ = fs::temp_directory_path() / (name + "-" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

inline void WriteFile(const fs::path& p, const Bytes& b) {
  fs::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
  ASSERT_TRUE(f.good()) << p;
}

inline void WriteText(const fs::path& p, const std::string& s) {
  WriteFile(p, Bytes(s.begin(), s.end()));
}

// Image `i` of the fixture: a photo-like picture (distinct per i: PDQ codes ~128 bits apart), as a
// JPEG (even i) or a PNG (odd i), with high PDQ quality.
inline Image FixturePixels(int i) {
  PhotoLikeSpec spec;
  spec.width = 160 + 8 * (i % 4);
  spec.height = 120 + 6 * (i % 3);
  spec.seed = uint64_t(100 + i);
  Image im;
  im.width = spec.width, im.height = spec.height, im.channels = 3;
  im.pixels = MakePhotoLikeRgb(spec);
  return im;
}
inline Bytes FixtureImage(int i) {
  const Image im = FixturePixels(i);
  return i % 2 == 0 ? EncodeJpeg(im, Bytes{}, 90) : EncodePng(im);
}

// Bytes that sniff as a JPEG but cannot be decoded.
inline Bytes CorruptJpeg(int salt) {
  Bytes b = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00};
  for (int k = 0; k < 200; ++k) b.push_back(uint8_t((k * 31 + salt) & 0xff));
  return b;
}

// Writes a tar (pax) shard of (name, bytes) members in the order given.
inline void WriteTar(const fs::path& path,
                     const std::vector<std::pair<std::string, Bytes>>& members) {
  fs::create_directories(path.parent_path());
  struct archive* a = archive_write_new();
  ASSERT_EQ(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
  ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK) << path;
  for (const auto& [name, bytes] : members) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_size(e, la_int64_t(bytes.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_mtime(e, 1700000000, 0);
    ASSERT_EQ(archive_write_header(a, e), ARCHIVE_OK);
    ASSERT_EQ(archive_write_data(a, bytes.data(), bytes.size()), la_ssize_t(bytes.size()));
    archive_entry_free(e);
  }
  ASSERT_EQ(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);
}

inline Hash256 PdqOf(const Bytes& b) {
  PdqHasher h;
  auto r = h.HashBytes(b);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r->pdq[0].hash : Hash256();
}

inline Md5Digest Md5Of(const Bytes& b) {
  return Md5(b).value();
}

template <class Code>
EntryRecord Record(const std::string& key, SignalType signal, const Code& code) {
  EntryRecord r;
  r.key = key;
  r.signal = signal;
  r.code.assign(code.bytes().begin(), code.bytes().end());
  r.classification = "A1";
  r.tags = {"fixture"};
  return r;
}

// A store with the sets the tests use:
//   bad_pdq  (PDQ, match, threshold 31)  bad_md5 (MD5, match)  allow_pdq (PDQ, suppress, 31)
inline std::unique_ptr<HashSetStore> MakeStore(const fs::path& dir,
                                               const std::vector<EntryRecord>& bad_pdq,
                                               const std::vector<EntryRecord>& bad_md5,
                                               const std::vector<EntryRecord>& allow_pdq) {
  StoreOptions o;
  o.create_if_missing = true;
  o.background_snapshots = false;
  auto s = HashSetStore::Open(dir, o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (!s.ok()) return nullptr;
  auto store = std::move(s).value();
  EXPECT_TRUE(store->CreateSet({"bad_pdq", SignalType::kPdq, 31}).ok());
  EXPECT_TRUE(store->CreateSet({"bad_md5", SignalType::kMd5, 0}).ok());
  EXPECT_TRUE(store->CreateSet({"allow_pdq", SignalType::kPdq, 31, SetKind::kSuppress}).ok());
  auto apply = [&](const char* set, const std::vector<EntryRecord>& records) {
    if (records.empty()) return;
    ImportPage page;
    page.records = records;
    auto r = store->ApplyPage(set, page);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
  };
  apply("bad_pdq", bad_pdq);
  apply("bad_md5", bad_md5);
  apply("allow_pdq", allow_pdq);
  return store;
}

}  // namespace hashmatch::testing
