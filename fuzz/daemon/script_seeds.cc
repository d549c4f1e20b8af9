#include "script_seeds.h"

#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <sstream>

#include "script_session.h"

namespace hashmatch::fuzz {

namespace {

// Signal numbers as on the wire.
enum : uint8_t { kPdq = 0, kDhash = 2, kPhash = 3, kMd5 = 5, kSha1 = 6, kSha256 = 7 };
// Names as the script reads them.
enum : uint8_t { kNPdq, kNMd5, kNDh, kNAllow, kNFz, kNFz2 };
// Baseline set order (fuzz_daemon.h).
enum : uint8_t { kSPdq, kSMd5, kSDh, kSAllow };

constexpr uint8_t kWait = 1, kCast = 2, kCancel = 4;

// Key bytes: a baseline entry's key, or a fresh "k<128+k>".
constexpr uint8_t KeyByte(uint8_t set, uint8_t i) {
  return uint8_t(set + 4 * i);
}
constexpr uint8_t NewKeyByte(uint8_t k) {
  return uint8_t(128 + k);
}

// Writes a script in the order script_session.cc reads it.
class W {
 public:
  explicit W(TokenChoice token) : s_("S") { U8(token); }
  std::string str() const { return s_; }

  W& U8(uint8_t b) {
    s_ += char(b);
    return *this;
  }
  W& U16(uint16_t v) { return U8(uint8_t(v)).U8(uint8_t(v >> 8)); }
  W& U32(uint32_t v) { return U16(uint16_t(v)).U16(uint16_t(v >> 16)); }
  W& Str(const std::string& v) {
    U8(uint8_t(v.size()));
    s_ += v.substr(0, 255);
    return *this;
  }
  W& Op(Op op, uint8_t flags = kWait) { return U8(op).U8(flags); }
  W& Name(uint8_t n) { return U8(n); }
  W& Key(uint8_t set, uint8_t i) { return U8(KeyByte(set, i)); }
  W& NewKey(uint8_t k) { return U8(NewKeyByte(k)); }
  // Hashes (form: 0 hex, 1 upper-case hex, 2 bytes with flips, 3 hex text, 4 bytes, 5 none).
  W& Hex(uint8_t signal, uint8_t index) { return U8(signal).U8(index); }
  W& UpperHex(uint8_t signal, uint8_t index) { return U8(uint8_t(signal + 10)).U8(index); }
  W& Flipped(uint8_t signal, uint8_t index, std::initializer_list<uint8_t> bits) {
    U8(uint8_t(signal + 20)).U8(index).U8(uint8_t(bits.size()));
    for (uint8_t b : bits) U8(b);
    return *this;
  }
  W& HexText(uint8_t signal, const std::string& text) {
    return U8(uint8_t(signal + 30)).U8(0).Str(text);
  }
  W& RawBytes(uint8_t signal, const std::string& bytes) {
    return U8(uint8_t(signal + 40)).U8(0).Str(bytes);
  }
  W& NoHash(uint8_t signal) { return U8(uint8_t(signal + 50)).U8(0); }
  W& Options(std::initializer_list<uint8_t> names = {}, uint8_t threshold = 0xff,
             uint8_t max_hits = 0) {
    U8(uint8_t(names.size()));
    for (uint8_t n : names) Name(n);
    return U8(threshold).U8(max_hits);
  }
  // A sync-page record with a hash (written by `hash`) or a deletion.
  template <class F>
  W& Record(uint8_t key_sel, uint8_t bits, F hash, uint32_t time = 1700001000) {
    U8(key_sel).U8(bits);
    if (!(bits & 1) || (bits & 16)) hash(*this);
    if (bits & 4) Str("A1");
    if (bits & 8) U8(1).Str("tag");
    return U32(time);
  }
  W& PageEnd(uint8_t bits, const std::string& checkpoint) { return U8(bits).Str(checkpoint); }

 private:
  std::string s_;
};

std::string ReadFile(const std::filesystem::path& p, const std::string& fallback) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return fallback;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::vector<std::pair<std::string, std::string>> ScriptSeeds(const std::filesystem::path& images) {
  std::vector<std::pair<std::string, std::string>> seeds;
  auto add = [&seeds](const char* name, const W& w) { seeds.emplace_back(name, w.str()); };

  add("gate-info", W(kTokNone).Op(kInfo));

  {  // Matching as admin: exact, near, suppressed, every form of hash, options.
    W w(kTokAdmin);
    w.Op(kMatch).U8(4);
    w.U8(1).Hex(kPdq, 2).U8(0xff);
    w.U8(1).Flipped(kPdq, 3, {1, 9, 77, 130, 201}).U8(0xff);
    w.U8(2).UpperHex(kMd5, 1).Flipped(kDhash, 2, {}).U8(0xff);
    w.U8(3).HexText(kPdq, "12ab").RawBytes(kSha1, "abc").NoHash(kPhash).U8(0xff);
    w.Options();
    // One dihedral-like query of eight PDQ hashes, one of them suppressed by the allow set.
    w.Op(kMatch).U8(1).U8(8);
    for (uint8_t i = 0; i < 8; ++i) w.Hex(kPdq, i);
    w.U8(20).Options({kNPdq, kNAllow}, 25, 3);
    w.Op(kMatch).U8(1).U8(1).Hex(kMd5, 0).U8(0).Options({kNMd5, kNFz}, 0, 30);
    add("admin-match", w);
  }
  {  // Set administration as admin.
    W w(kTokAdmin);
    w.Op(kListSets).Op(kGetSet).Name(kNPdq).Op(kGetSet).Name(kNFz);
    w.Op(kCreateSet).Name(kNFz).U8(kPdq).U16(20).U8(0).U8(1);
    w.Op(kCreateSet).Name(kNFz2).U8(kMd5).U16(3).U8(1).U8(3);  // exact digests need 0
    w.Op(kConfigureSet).Name(kNFz).U8(1 | 2 | 4).U16(12).U8(1);
    w.Op(kSetEntryEnabled).Name(kNPdq).Key(kSPdq, 1).U8(0);
    w.Op(kSetEntryEnabled).Name(kNPdq).NewKey(9).U8(1);
    w.Op(kListQuarantined).Op(kReleaseQuarantined).Name(kNPdq).Key(kSPdq, 0);
    w.Op(kDropSet).Name(kNFz).Op(kDropSet).Name(kNFz);
    w.Op(kHealth).Op(kStats);
    add("admin-sets", w);
  }
  {  // Sync as admin: a new set, a page twice, a checkpoint, a full list, a match on it.
    W w(kTokAdmin);
    w.Op(kCreateSet).Name(kNFz).U8(kPdq).U16(31).U8(0).U8(1);
    auto page = [](W& w, const std::string& cp) {
      w.Op(kApplyPage).Name(kNFz).U8(5);
      w.Record(NewKeyByte(1), 4 | 8, [](W& x) { x.Hex(kPdq, 5); });
      w.Record(NewKeyByte(2), 0, [](W& x) { x.Flipped(kPdq, 6, {3, 4}); });
      w.Record(NewKeyByte(3), 2, [](W& x) { x.UpperHex(kPdq, 7); });
      w.Record(NewKeyByte(4), 0, [](W& x) { x.Hex(kMd5, 1); });  // another signal: skipped
      w.Record(NewKeyByte(2), 1, [](W&) {});                     // then deleted
      w.PageEnd(1 | 4, cp);
    };
    page(w, "cp-1");
    page(w, "cp-1");
    w.Op(kGetCheckpoint).Name(kNFz);
    w.Op(kApplyPage).Name(kNFz).U8(1).Record(NewKeyByte(1), 0, [](W& x) { x.Hex(kPdq, 5); });
    w.PageEnd(1 | 2, "cp-2");
    w.Op(kMatch).U8(1).U8(1).Hex(kPdq, 5).U8(0xff).Options({kNFz});
    add("admin-sync", w);
  }
  {  // A scanner: matching and reading allowed, the rest refused.
    W w(kTokScan);
    w.Op(kMatch).U8(1).U8(1).Hex(kPdq, 0).U8(0xff).Options();
    w.Op(kListSets).Op(kGetSet).Name(kNDh);
    w.Op(kCreateSet).Name(kNFz).U8(kPdq).U16(10).U8(0).U8(1);
    w.Op(kApplyPage).Name(kNPdq).U8(1).Record(NewKeyByte(1), 0, [](W& x) { x.Hex(kPdq, 1); });
    w.PageEnd(0, "");
    w.Op(kGetCheckpoint).Name(kNPdq).Op(kDropSet).Name(kNPdq).Op(kListQuarantined).Op(kStats);
    add("scan-roles", w);
  }
  {  // sync:pdq: its own set only.
    W w(kTokSync);
    w.Op(kApplyPage).Name(kNPdq).U8(2);
    w.Record(NewKeyByte(5), 0, [](W& x) { x.Hex(kPdq, 6); });
    w.Record(KeyByte(kSPdq, 1), 1, [](W&) {});
    w.PageEnd(1, "cp-sync");
    w.Op(kApplyPage).Name(kNMd5).U8(1).Record(NewKeyByte(6), 0, [](W& x) { x.Hex(kMd5, 2); });
    w.PageEnd(0, "");
    w.Op(kGetCheckpoint).Name(kNPdq).Op(kGetCheckpoint).Name(kNMd5);
    w.Op(kMatch).U8(1).U8(1).Hex(kPdq, 0).U8(0xff).Options();
    w.Op(kHealth).Op(kGetSet).Name(kNPdq);
    add("sync-roles", w);
  }
  {  // Wrong tokens until the connection refuses, then the right one.
    W w(kTokWrong);
    for (int i = 0; i < 5; ++i) w.Op(kAuthenticate).U8(kTokWrong);
    w.Op(kAuthenticate).U8(kTokAdmin).Op(kListSets).Op(kInfo);
    w.Op(kAuthenticate).U8(kTokFromInput).Str("fuzz-admin-tokem");
    add("wrong-tokens", w);
  }
  {  // Limits: batch, hashes per query, page records, images.
    W w(kTokAdmin);
    w.Op(kMatchMany).U16(300).Hex(kPdq, 1);
    w.Op(kMatchMany).U16(256).Hex(kDhash, 1);
    w.Op(kMatch).U8(1).U8(17);
    for (uint8_t i = 0; i < 17; ++i) w.Hex(kPdq, i);
    w.U8(0xff).Options({}, 0xff, 23);
    w.Op(kApplyPage).Name(kNPdq).U8(70);
    for (uint8_t i = 0; i < 70; ++i) w.Record(NewKeyByte(i), 0, [](W& x) { x.Hex(kPdq, 1); });
    w.PageEnd(0, "");
    w.Op(kMatchImages).U8(5);
    for (int i = 0; i < 4; ++i) w.U16(3).U8('x').U8('y').U8('z');
    w.U16(0xffff).Options().U8(0).U8(0);
    add("limits", w);
  }
  {  // Images hashed by the daemon.
    const std::string jpeg = ReadFile(images / "jpeg-5x5.jpg", "\xff\xd8\xff\xe0 not a jpeg");
    const std::string png = ReadFile(images / "png-1x1.png", "\x89PNG\r\n\x1a\n cut");
    W w(kTokAdmin);
    w.Op(kMatchImages).U8(3);
    w.U16(uint16_t(jpeg.size()));
    for (char c : jpeg) w.U8(uint8_t(c));
    w.U16(uint16_t(png.size()));
    for (char c : png) w.U8(uint8_t(c));
    w.U16(4).U8('G').U8('I').U8('F').U8('8');
    w.Options({kNPdq, kNMd5}).U8(1).U8(3).U8(kMd5).U8(kSha1).U8(kSha256);
    add("images", w);
  }
  {  // Calls through the wrong capability, cancelled calls, pipelined calls without waiting.
    W w(kTokAdmin);
    w.Op(kListSets, kWait | kCast | (1 << 3));  // through the matcher
    w.Op(kMatch, kWait | kCast | (2 << 3)).U8(1).U8(1).Hex(kPdq, 0).U8(0xff).Options();
    w.Op(kInfo, kWait | kCast | (4 << 3));  // the gate's method on the health capability
    w.Op(kMatch, kCancel).U8(1).U8(1).Hex(kPdq, 0).U8(0xff).Options();
    w.Op(kApplyPage, kCancel).Name(kNPdq).U8(0).PageEnd(1, "cancelled");
    w.Op(kStats, 0).Op(kListSets, 0).Op(kHealth, 0).Op(kGetSet, 0).Name(kNAllow);
    w.Op(kAuthenticate, 0).U8(kTokScan).Op(kMatch, 0).U8(1).U8(1).Hex(kPdq, 1).U8(0xff);
    w.Options().Op(kCreateSet, 0).Name(kNFz).U8(kPdq).U16(10).U8(0).U8(1);
    add("casts-cancels", w);
  }
  (void)kSDh;
  (void)kSAllow;
  (void)kSMd5;
  return seeds;
}

}  // namespace hashmatch::fuzz
