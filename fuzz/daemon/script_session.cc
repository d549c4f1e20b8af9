#include "script_session.h"

#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>
#include <kj/vector.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "fuzz_daemon.h"
#include "hashmatch/core/hex.h"
#include "hashmatch/schema/hashmatch.capnp.h"

namespace hashmatch::fuzz {

namespace {

using Clock = std::chrono::steady_clock;

// Reads a script; past the end every read gives 0 (or an empty string).
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> d) : d_(d) {}
  bool done() const { return pos_ >= d_.size(); }
  uint8_t U8() { return pos_ < d_.size() ? d_[pos_++] : 0; }
  uint16_t U16() {
    const uint16_t lo = U8();
    return uint16_t(lo | (U8() << 8));
  }
  uint32_t U32() {
    const uint32_t lo = U16();
    return lo | (uint32_t(U16()) << 16);
  }
  std::string Str() { return Take(U8()); }
  std::string Take(size_t n) {
    n = std::min(n, done() ? 0 : d_.size() - pos_);
    std::string s(reinterpret_cast<const char*>(d_.data()) + pos_, n);
    pos_ += n;
    return s;
  }

 private:
  std::span<const uint8_t> d_;
  size_t pos_ = 0;
};

// The roles, restated from docs/daemon.md (not from daemon/src/access.cc: this is the oracle).
enum class Role { kNone, kScan, kSyncPdq, kAdmin };

bool Allowed(Role role, std::string_view method, std::string_view set) {
  if (method.starts_with("Gate.")) return true;
  switch (role) {
    case Role::kAdmin:
      return true;
    case Role::kNone:
      return false;
    case Role::kScan:
      return method.starts_with("Matcher.") || method.starts_with("Health.") ||
             method == "SetAdmin.listSets" || method == "SetAdmin.getSet";
    case Role::kSyncPdq:
      if (method.starts_with("Sync.")) return set == "pdq";
      return method.starts_with("Health.") || method == "SetAdmin.listSets" ||
             method == "SetAdmin.getSet";
  }
  return false;
}

// The errors a call that needs the store may get while the daemon is not ready: the not-ready
// error itself, or an error from before the call reached the service (the role's refusal, a
// failed or concurrent authenticate whose grant the call was pipelined on, a capability the grant
// does not hold, a call through another capability, the connection going away).
bool NotReadyOrNotReached(const kj::Exception& e) {
  std::string_view d(e.getDescription().cStr());
  // The client side sees the daemon's errors with this prefix.
  if (d.starts_with("remote exception: ")) d.remove_prefix(18);
  if (e.getType() == kj::Exception::Type::DISCONNECTED ||
      e.getType() == kj::Exception::Type::UNIMPLEMENTED) {
    return true;
  }
  return d.starts_with("unavailable: not ready: ") || d.starts_with("permission_denied: ") ||
         d.starts_with("resource_exhausted: one authenticate call at a time") ||
         d.find("alled null capability") != std::string_view::npos;
}

[[noreturn]] void Violation(const char* method, const std::string& what) {
  std::fprintf(stderr, "daemon fuzz: %s %s\n", method, what.c_str());
  std::abort();
}

// The answers that state readiness (Gate.info, Health.health, Health.stats) must tell the truth,
// and while not ready the quarantine is empty (no match ever ran).
template <class R>
void CheckAnswer(const char* method, bool ready, R& r) {
  if constexpr (requires { r.getInfo().getReady(); }) {
    if (r.getInfo().getReady() != ready) Violation(method, "reports the wrong readiness");
  }
  if constexpr (requires { r.getStats().getReady(); }) {
    if (r.getStats().getReady() != ready) Violation(method, "reports the wrong readiness");
  }
  if constexpr (requires {
                  r.getReady();
                  r.getState();
                }) {
    const std::string_view state(r.getState().cStr());
    const bool state_ok =
        ready ? state == "ready" : state == "loading" || state.starts_with("failed: ");
    if (r.getReady() != ready || !state_ok) {
      Violation(method, "reports ready = " + std::to_string(r.getReady()) + ", state '" +
                            std::string(state) + "'");
    }
  }
  if (!ready) {
    if constexpr (requires { r.getEntries().size(); }) {
      if (r.getEntries().size() != 0) Violation(method, "lists entries while not ready");
    }
    if constexpr (requires { r.getReleased(); }) {
      if (r.getReleased()) Violation(method, "released an entry while not ready");
    }
  }
}

const char* RoleName(Role r) {
  switch (r) {
    case Role::kNone:
      return "unauthenticated";
    case Role::kScan:
      return "scan";
    case Role::kSyncPdq:
      return "sync:pdq";
    case Role::kAdmin:
      return "admin";
  }
  return "?";
}

// Keeps what the client writes instead of sending it: the daemon gets nothing, so the recording
// is exactly what the client sends before it sees any answer.
class RecordingStream final : public kj::AsyncIoStream {
 public:
  RecordingStream(kj::AsyncIoStream& inner, std::string& out) : inner_(inner), out_(out) {}

  kj::Promise<size_t> tryRead(void* buffer, size_t min_bytes, size_t max_bytes) override {
    return inner_.tryRead(buffer, min_bytes, max_bytes);
  }
  kj::Promise<void> write(const void* buffer, size_t size) override {
    out_.append(static_cast<const char*>(buffer), size);
    return kj::READY_NOW;
  }
  kj::Promise<void> write(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) override {
    for (auto p : pieces) out_.append(reinterpret_cast<const char*>(p.begin()), p.size());
    return kj::READY_NOW;
  }
  kj::Promise<void> whenWriteDisconnected() override { return kj::NEVER_DONE; }
  void shutdownWrite() override {}

 private:
  kj::AsyncIoStream& inner_;
  std::string& out_;
};

struct Caps {
  Role role = Role::kNone;
  wire::Matcher::Client matcher{nullptr};
  wire::SetAdmin::Client sets{nullptr};
  wire::Sync::Client sync{nullptr};
  wire::Health::Client health{nullptr};
};

class Session {
 public:
  Session(wire::Gate::Client gate, Reader& in, bool record, bool ready)
      : gate_(kj::mv(gate)), in_(in), record_(record), ready_(ready) {
    // Before any grant every call goes to the gate, which implements none of them.
    caps_.matcher = gate_.castAs<wire::Matcher>();
    caps_.sets = gate_.castAs<wire::SetAdmin>();
    caps_.sync = gate_.castAs<wire::Sync>();
    caps_.health = gate_.castAs<wire::Health>();
  }

  int outstanding() const { return outstanding_; }

  void Run(FuzzDaemon& d, Clock::time_point until) {
    Authenticate(in_.U8(), 0);
    for (int i = 0; i < kMaxCalls && !in_.done(); ++i) {
      const uint8_t op = in_.U8() % kNumOps;
      const uint8_t flags = in_.U8();
      Call(op, flags);
      // A recording must replay as one write: nothing waits for an answer then.
      if ((flags & 1) && !record_) d.Pump([this] { return outstanding_ == 0; }, until);
    }
  }

 private:
  void Authenticate(uint8_t choice, uint8_t flags) {
    std::string token;
    switch (choice % kNumTokenChoices) {
      case kTokAdmin:
        token = kAdminToken;
        break;
      case kTokScan:
        token = kScanToken;
        break;
      case kTokSync:
        token = kSyncToken;
        break;
      case kTokWrong:
        token = "fuzz-wrong-token";
        break;
      case kTokFromInput:
        token = in_.Str();
        break;
      default:
        return;  // no authenticate call
    }
    Role role = Role::kNone;
    if (token == kAdminToken) role = Role::kAdmin;
    if (token == kScanToken) role = Role::kScan;
    if (token == kSyncToken) role = Role::kSyncPdq;
    auto req = Target<wire::Gate>(gate_, flags).authenticateRequest();
    req.setToken(token);
    auto answer = req.send();
    auto grant = answer.getGrant();
    caps_.role = role;
    caps_.matcher = grant.getMatcher();
    caps_.sets = grant.getSets();
    caps_.sync = grant.getSync();
    caps_.health = grant.getHealth();
    Track("Gate.authenticate", {}, kj::mv(answer), flags);
  }

  // The call's target: its own capability, or (flag bit 1) another one cast to its interface.
  template <class T>
  typename T::Client Target(typename T::Client own, uint8_t flags) {
    if (!(flags & 2)) return own;
    switch ((flags >> 3) % 5) {
      case 0:
        return gate_.castAs<T>();
      case 1:
        return caps_.matcher.castAs<T>();
      case 2:
        return caps_.sets.castAs<T>();
      case 3:
        return caps_.sync.castAs<T>();
      default:
        return caps_.health.castAs<T>();
    }
  }

  // Keeps the answer (or drops it at once, cancelling the call: flag bit 2) and checks the role
  // oracle when it arrives.
  template <class P>
  void Track(const char* method, std::string set, P&& answer, uint8_t flags) {
    ++outstanding_;
    const Role role = caps_.role;
    const bool trace = trace_, ready = ready_;
    auto p = answer
                 .then(
                     [method, role, set, trace, ready](auto&& response) {
                       if (trace) std::fprintf(stderr, "  %s: ok\n", method);
                       if (!Allowed(role, method, set)) {
                         std::fprintf(stderr, "daemon fuzz: %s succeeded for role %s (set '%s')\n",
                                      method, RoleName(role), set.c_str());
                         std::abort();
                       }
                       if (!ready && NeedsStore(method)) {
                         Violation(method, "succeeded while the daemon is not ready");
                       }
                       CheckAnswer(method, ready, response);
                     },
                     [method, trace, ready](kj::Exception&& e) {
                       if (trace) {
                         std::fprintf(stderr, "  %s: %s\n", method, e.getDescription().cStr());
                       }
                       if (!ready && NeedsStore(method) && !NotReadyOrNotReached(e)) {
                         Violation(method, std::string("failed with another error than not ready "
                                                       "while the daemon is not ready: ") +
                                               e.getDescription().cStr());
                       }
                     })
                 .attach(kj::defer([this] { --outstanding_; }))
                 .eagerlyEvaluate(nullptr);
    if (!(flags & 4)) pending_.add(kj::mv(p));
  }

  std::string Name() {
    static constexpr const char* kNames[] = {"pdq", "md5", "dh", "allow", "fz", "fz2"};
    const uint8_t sel = in_.U8();
    if (sel < 240) return kNames[sel % 6];
    return in_.Str();
  }

  std::string Key() {
    const uint8_t sel = in_.U8();
    if (sel < 128) {
      const BaselineSet& s = kBaselineSets[sel % std::size(kBaselineSets)];
      return BaselineKey(s, (sel / 4) % 10);
    }
    if (sel < 250) return "k" + std::to_string(sel);
    return in_.Str();
  }

  // A code of `signal`: a baseline entry's when a set of that signal has index `i`, else a made-up
  // one of the right length.
  static std::vector<uint8_t> KnownCode(SignalType signal, uint8_t i) {
    for (const BaselineSet& s : kBaselineSets) {
      if (s.signal == signal && !s.suppress) return BaselineCode(s, i % (s.entries + 1));
    }
    const BaselineSet other{"other", signal, 0, false, 0};
    return BaselineCode(other, i);
  }

  void FillHash(wire::Hash::Builder h) {
    const uint8_t sel = in_.U8();
    const uint8_t signal = sel % 10;
    h.setSignal(static_cast<wire::SignalType>(signal));
    std::vector<uint8_t> code =
        KnownCode(signal < 8 ? static_cast<SignalType>(signal) : SignalType::kPdq, in_.U8());
    switch ((sel / 10) % 6) {
      case 0:
        h.setHex(EncodeHex(code));
        break;
      case 1: {
        std::string hex = EncodeHex(code);
        for (char& c : hex) c = char(std::toupper(static_cast<unsigned char>(c)));
        h.setHex(hex);
        break;
      }
      case 2: {
        const uint8_t flips = in_.U8() % 48;
        for (uint8_t f = 0; f < flips; ++f) {
          const uint8_t pos = in_.U8();
          code[(pos / 8) % code.size()] ^= uint8_t(1u << (pos % 8));
        }
        h.setBytes(kj::arrayPtr(code.data(), code.size()));
        break;
      }
      case 3:
        h.setHex(in_.Str());
        break;
      case 4: {
        const std::string s = in_.Str();
        h.setBytes(kj::arrayPtr(reinterpret_cast<const kj::byte*>(s.data()), s.size()));
        break;
      }
      default:
        break;  // neither: the union's default, an empty hex
    }
  }

  void FillOptions(wire::MatchOptions::Builder o) {
    const uint8_t n = in_.U8() % 4;
    auto sets = o.initSets(n);
    for (uint8_t i = 0; i < n; ++i) sets.set(i, Name());
    o.setThreshold(int8_t(in_.U8()));
    o.setMaxHitsPerQuery(in_.U8() % 24);
  }

  void Call(uint8_t op, uint8_t flags) {
    switch (op) {
      case kInfo:
        Track("Gate.info", {}, Target<wire::Gate>(gate_, flags).infoRequest().send(), flags);
        break;
      case kAuthenticate:
        Authenticate(in_.U8(), flags);
        break;
      case kMatch: {
        auto req = Target<wire::Matcher>(caps_.matcher, flags).matchRequest();
        const uint8_t nq = in_.U8() % 12;
        auto queries = req.initQueries(nq);
        for (auto q : queries) {
          auto hashes = q.initHashes(in_.U8() % 20);
          for (auto h : hashes) FillHash(h);
          q.setThreshold(int8_t(in_.U8()));
        }
        FillOptions(req.initOptions());
        Track("Matcher.match", {}, req.send(), flags);
        break;
      }
      case kMatchMany: {
        auto req = Target<wire::Matcher>(caps_.matcher, flags).matchRequest();
        const uint16_t n = in_.U16() % 600;
        auto queries = req.initQueries(n);
        if (n > 0) FillHash(queries[0].initHashes(1)[0]);
        for (uint16_t i = 1; i < n; ++i) {
          queries[i].initHashes(1).setWithCaveats(0, queries[0].getHashes()[0].asReader());
        }
        Track("Matcher.match", {}, req.send(), flags);
        break;
      }
      case kMatchImages: {
        auto req = Target<wire::Matcher>(caps_.matcher, flags).matchImagesRequest();
        const uint8_t n = in_.U8() % 6;
        auto images = req.initImages(n);
        for (uint8_t i = 0; i < n; ++i) {
          const uint16_t len = in_.U16();
          if (len == 0xffff) {
            images.init(i, 70000);  // over max_image_bytes
          } else {
            const std::string bytes = in_.Take(len);
            images.set(i,
                       kj::arrayPtr(reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size()));
          }
        }
        FillOptions(req.initOptions());
        req.setDihedral(in_.U8() & 1);
        auto digests = req.initDigests(in_.U8() % 4);
        for (uint32_t i = 0; i < digests.size(); ++i) {
          digests.set(i, static_cast<wire::SignalType>(in_.U8() % 10));
        }
        Track("Matcher.matchImages", {}, req.send(), flags);
        break;
      }
      case kListSets:
        Track("SetAdmin.listSets", {},
              Target<wire::SetAdmin>(caps_.sets, flags).listSetsRequest().send(), flags);
        break;
      case kGetSet: {
        auto req = Target<wire::SetAdmin>(caps_.sets, flags).getSetRequest();
        req.setName(Name());
        Track("SetAdmin.getSet", {}, req.send(), flags);
        break;
      }
      case kCreateSet: {
        auto req = Target<wire::SetAdmin>(caps_.sets, flags).createSetRequest();
        auto c = req.initConfig();
        c.setName(Name());
        c.setSignal(static_cast<wire::SignalType>(in_.U8() % 10));
        c.setThreshold(in_.U16() % 300);
        c.setKind(static_cast<wire::SetKind>(in_.U8() % 3));
        const uint8_t bits = in_.U8();
        c.setEnabled(bits & 1);
        c.setRefuseDegenerate(bits & 2);
        Track("SetAdmin.createSet", {}, req.send(), flags);
        break;
      }
      case kConfigureSet: {
        auto req = Target<wire::SetAdmin>(caps_.sets, flags).configureSetRequest();
        req.setName(Name());
        auto u = req.initUpdate();
        const uint8_t bits = in_.U8();
        u.setHasThreshold(bits & 1);
        u.setHasKind(bits & 2);
        u.setHasEnabled(bits & 4);
        u.setEnabled(bits & 8);
        u.setThreshold(in_.U16() % 300);
        u.setKind(static_cast<wire::SetKind>(in_.U8() % 3));
        Track("SetAdmin.configureSet", {}, req.send(), flags);
        break;
      }
      case kDropSet: {
        auto req = Target<wire::SetAdmin>(caps_.sets, flags).dropSetRequest();
        req.setName(Name());
        Track("SetAdmin.dropSet", {}, req.send(), flags);
        break;
      }
      case kSetEntryEnabled: {
        auto req = Target<wire::SetAdmin>(caps_.sets, flags).setEntryEnabledRequest();
        req.setSet(Name());
        req.setKey(Key());
        req.setEnabled(in_.U8() & 1);
        Track("SetAdmin.setEntryEnabled", {}, req.send(), flags);
        break;
      }
      case kListQuarantined:
        Track("SetAdmin.listQuarantined", {},
              Target<wire::SetAdmin>(caps_.sets, flags).listQuarantinedRequest().send(), flags);
        break;
      case kReleaseQuarantined: {
        auto req = Target<wire::SetAdmin>(caps_.sets, flags).releaseQuarantinedRequest();
        req.setSet(Name());
        req.setKey(Key());
        Track("SetAdmin.releaseQuarantined", {}, req.send(), flags);
        break;
      }
      case kApplyPage: {
        auto req = Target<wire::Sync>(caps_.sync, flags).applyPageRequest();
        const std::string set = Name();
        req.setSet(set);
        auto page = req.initPage();
        auto records = page.initRecords(in_.U8() % 72);  // max_page_records is 64
        for (auto r : records) {
          r.setKey(Key());
          const uint8_t bits = in_.U8();
          r.setDeleted(bits & 1);
          r.setMatchable(!(bits & 2));
          if (!(bits & 1) || (bits & 16)) FillHash(r.initHash());
          if (bits & 4) r.setClassification(in_.Str());
          if (bits & 8) {
            auto tags = r.initTags(in_.U8() % 4);
            for (uint32_t i = 0; i < tags.size(); ++i) tags.set(i, in_.Str());
          }
          r.setSourceTime(int64_t(int32_t(in_.U32())));
        }
        const uint8_t bits = in_.U8();
        page.setHasCheckpoint(bits & 1);
        page.setFullList(bits & 2);
        page.setSkipOtherSignals(bits & 4);
        page.setCheckpoint(in_.Str());
        Track("Sync.applyPage", set, req.send(), flags);
        break;
      }
      case kGetCheckpoint: {
        auto req = Target<wire::Sync>(caps_.sync, flags).getCheckpointRequest();
        const std::string set = Name();
        req.setSet(set);
        Track("Sync.getCheckpoint", set, req.send(), flags);
        break;
      }
      case kHealth:
        Track("Health.health", {}, Target<wire::Health>(caps_.health, flags).healthRequest().send(),
              flags);
        break;
      default:
        Track("Health.stats", {}, Target<wire::Health>(caps_.health, flags).statsRequest().send(),
              flags);
        break;
    }
  }

  wire::Gate::Client gate_;
  Reader& in_;
  const bool record_;
  const bool ready_;  // the daemon under test is ready (else: the not-ready oracle)
  Caps caps_;
  int outstanding_ = 0;
  // HASHMATCH_DAEMON_FUZZ_TRACE=1: each call's outcome on stderr (to see what a script does).
  const bool trace_ = [] {
    const char* t = std::getenv("HASHMATCH_DAEMON_FUZZ_TRACE");
    return t != nullptr && t[0] == '1';
  }();
  kj::Vector<kj::Promise<void>> pending_;
};

}  // namespace

bool NeedsStore(std::string_view method) {
  // listQuarantined reads memory only; releaseQuarantined writes the state file, which lives in
  // the store's directory, so it waits for the store (set_admin_service.cc).
  if (method == "SetAdmin.listQuarantined") return false;
  return method.starts_with("Matcher.") || method.starts_with("SetAdmin.") ||
         method.starts_with("Sync.");
}

void RunScript(std::span<const uint8_t> script, std::string* record) {
  FuzzDaemon& d = FuzzDaemon::Get();
  const auto until = Clock::now() + std::chrono::seconds(4);
  auto pipe = kj::newTwoWayPipe();
  d.server().Serve(kj::mv(pipe.ends[0]), "fuzz-script");
  {
    kj::Own<kj::AsyncIoStream> end = kj::mv(pipe.ends[1]);
    kj::Own<RecordingStream> recorder;
    if (record != nullptr) recorder = kj::heap<RecordingStream>(*end, *record);
    capnp::TwoPartyClient client(
        recorder.get() != nullptr ? static_cast<kj::AsyncIoStream&>(*recorder) : *end);
    Reader in(script);
    Session session(client.bootstrap().castAs<wire::Gate>(), in, record != nullptr,
                    d.readiness() == Readiness::kReady);
    session.Run(d, until);
    d.Pump([&] { return session.outstanding() == 0; }, until);
    // Leaving the scope drops the session (cancelling what is left), the client and the pipe's
    // end: the daemon sees the connection end.
  }
  d.Settle(until + std::chrono::seconds(4), "script");
}

}  // namespace hashmatch::fuzz
