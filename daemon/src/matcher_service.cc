// Matcher: match batches of hashes, or images hashed here. The RPC thread only checks the
// limits and copies the request; parsing, hashing, matching and building the answer run on the
// worker pool (match_engine.h does the matching).
#include <capnp/message.h>

#include <chrono>
#include <thread>

#include "hashmatch/core/digest.h"
#include "hashmatch/core/pdq.h"
#include "match_engine.h"
#include "services.h"
#include "wire_convert.h"

namespace hashmatch::daemon {

namespace {

struct JobOutput {
  kj::Own<capnp::MallocMessageBuilder> message;
  uint64_t queries = 0;
  uint64_t hits = 0;
};

// Who is asking, for the audit log.
struct Caller {
  AuditLog* audit = nullptr;
  HotEntries* hot = nullptr;
  std::string principal, roles;
};

// After matching, on the worker: surging entries are quarantined, then every hit is audited.
void Audit(const Caller& caller, EngineResult& result) {
  caller.hot->Apply(&result);
  if (caller.audit == nullptr) return;
  auto n = caller.audit->Record(caller.principal, caller.roles, result);
  if (!n.ok()) LogError("audit_failed", {{"error", n.status().ToString()}});
}

// The integration tests' hook for a slow batch ([testing] in the config).
void TestingDelay(const TestingConfig& t, size_t hashes) {
  if (t.match_delay_ms > 0 && hashes >= t.match_delay_min_hashes) {
    std::this_thread::sleep_for(std::chrono::milliseconds(t.match_delay_ms));
  }
}

std::span<const uint8_t> Bytes(capnp::Data::Reader d) {
  return {d.begin(), d.size()};
}

class MatcherImpl final : public wire::Matcher::Server, ServiceBase {
 public:
  using ServiceBase::ServiceBase;

  kj::Promise<void> match(MatchContext ctx) override {
    return Serve("Matcher.match", {}, [this, ctx]() mutable -> kj::Promise<void> {
      std::shared_ptr<HashSetStore> store = state_.RequireStore();
      const Limits& limits = state_.limits();
      auto params = ctx.getParams();
      size_t hashes = 0;
      const auto queries = params.getQueries();
      for (uint32_t q = 0; q < queries.size(); ++q) {
        const size_t n = queries[q].getHashes().size();
        if (n > limits.max_hashes_per_query) {
          throw RpcError(
              "out_of_range",
              "query " + std::to_string(q) + " has " + std::to_string(n) +
                  " hashes; max_hashes_per_query = " + std::to_string(limits.max_hashes_per_query));
        }
        hashes += n;
      }
      if (hashes > limits.max_batch) {
        throw RpcError("out_of_range",
                       "batch of " + std::to_string(hashes) +
                           " hashes exceeds max_batch = " + std::to_string(limits.max_batch));
      }
      // The worker reads its own copy: if the call is cancelled, the request message goes away.
      auto request = kj::heap<capnp::MallocMessageBuilder>();
      request->setRoot(params);
      ctx.releaseParams();
      ctx.allowCancellation();
      const uint32_t max_hits = limits.max_hits_per_query;
      const int threads = int(state_.config().match_threads);
      const TestingConfig testing = state_.config().testing;
      return state_.pool()
          .Run<JobOutput>([request = kj::mv(request), store, max_hits, threads, testing, hashes,
                           caller = MakeCaller()]() mutable {
            auto in = request->getRoot<wire::Matcher::MatchParams>().asReader();
            std::vector<EngineQuery> qs = QueriesFromWire(in.getQueries());
            EngineOptions options = OptionsFromWire(in.getOptions(), max_hits, threads);
            TestingDelay(testing, hashes);
            JobOutput out;
            out.queries = qs.size();
            auto r = MatchQueries(*store->GetSnapshot(), std::move(qs), options);
            if (!r.ok()) throw StatusError(r.status());
            Audit(caller, *r);
            out.hits = r->total_hits;
            out.message = kj::heap<capnp::MallocMessageBuilder>();
            FillMatchResult(out.message->initRoot<wire::MatchResult>(), *r);
            return out;
          })
          .then([st = &state_, ctx](JobOutput out) mutable {
            st->stats().queries.fetch_add(out.queries, std::memory_order_relaxed);
            st->stats().hits.fetch_add(out.hits, std::memory_order_relaxed);
            ctx.getResults().setResult(out.message->getRoot<wire::MatchResult>().asReader());
          });
    });
  }

  kj::Promise<void> matchImages(MatchImagesContext ctx) override {
    return Serve("Matcher.matchImages", {}, [this, ctx]() mutable -> kj::Promise<void> {
      std::shared_ptr<HashSetStore> store = state_.RequireStore();
      const Limits& limits = state_.limits();
      auto params = ctx.getParams();
      const auto images = params.getImages();
      if (images.size() > limits.max_images) {
        throw RpcError("out_of_range",
                       std::to_string(images.size()) +
                           " images exceed max_images = " + std::to_string(limits.max_images));
      }
      for (uint32_t i = 0; i < images.size(); ++i) {
        if (images[i].size() > limits.max_image_bytes) {
          throw RpcError("out_of_range",
                         "image " + std::to_string(i) + " has " + std::to_string(images[i].size()) +
                             " bytes; max_image_bytes = " + std::to_string(limits.max_image_bytes));
        }
      }
      for (auto d : params.getDigests()) {
        auto s = SignalFromWire(d);
        if (!s || GetSignalInfo(*s).perceptual) {
          throw RpcError("invalid_argument", "digests may be md5, sha1 or sha256");
        }
      }
      auto request = kj::heap<capnp::MallocMessageBuilder>();
      request->setRoot(params);
      ctx.releaseParams();
      ctx.allowCancellation();
      const uint32_t max_hits = limits.max_hits_per_query;
      const int threads = int(state_.config().match_threads);
      const uint64_t max_pixels = limits.max_image_pixels;
      const TestingConfig testing = state_.config().testing;
      return state_.pool()
          .Run<JobOutput>([request = kj::mv(request), store, max_hits, threads, max_pixels, testing,
                           caller = MakeCaller()]() mutable {
            return HashAndMatch(request->getRoot<wire::Matcher::MatchImagesParams>().asReader(),
                                *store, max_hits, threads, max_pixels, testing, caller);
          })
          .then([st = &state_, ctx](JobOutput out) mutable {
            st->stats().queries.fetch_add(out.queries, std::memory_order_relaxed);
            st->stats().hits.fetch_add(out.hits, std::memory_order_relaxed);
            ctx.setResults(out.message->getRoot<wire::Matcher::MatchImagesResults>().asReader());
          });
    });
  }

 private:
  Caller MakeCaller() const {
    Caller c{state_.audit(), &state_.hot(), who_->name, {}};
    for (const std::string& r : who_->role_names) c.roles += (c.roles.empty() ? "" : ",") + r;
    return c;
  }

  // On a worker: decode and hash each image (one failure stays with its image), then match.
  static JobOutput HashAndMatch(wire::Matcher::MatchImagesParams::Reader in,
                                const HashSetStore& store, uint32_t max_hits, int threads,
                                uint64_t max_pixels, const TestingConfig& testing,
                                const Caller& caller) {
    thread_local PdqHasher hasher;
    const auto images = in.getImages();
    const bool dihedral = in.getDihedral();
    DecodeOptions decode;
    decode.max_pixels = max_pixels;
    JobOutput out;
    out.message = kj::heap<capnp::MallocMessageBuilder>();
    auto results = out.message->initRoot<wire::Matcher::MatchImagesResults>();
    auto image_results = results.initImages(images.size());
    std::vector<EngineQuery> queries(images.size());
    size_t hashes = 0;
    for (uint32_t i = 0; i < images.size(); ++i) {
      const auto bytes = Bytes(images[i]);
      EngineQuery& q = queries[i];
      auto ir = image_results[i];
      auto h = dihedral ? hasher.HashDihedralBytes(bytes, decode) : hasher.HashBytes(bytes, decode);
      if (h.ok()) {
        ir.setOk();
        ir.setWidth(uint32_t(h->width));
        ir.setHeight(uint32_t(h->height));
        ir.setQuality(uint32_t(h->pdq[0].quality));
        for (size_t o = 0; o < (dihedral ? kNumDihedral : 1); ++o) {
          const auto code = h->pdq[o].hash.bytes();
          q.hashes.push_back(QueryHash{SignalType::kPdq, {code.begin(), code.end()}});
        }
      } else {
        auto e = ir.initError();
        e.setCode(std::string(StatusCodeName(h.status().code())));
        e.setMessage("image " + std::to_string(i) + ": " + h.status().message());
      }
      // Digests match whatever the bytes are, image or not.
      for (auto d : in.getDigests()) {
        const SignalType s = *SignalFromWire(d);
        std::vector<uint8_t> code;
        if (s == SignalType::kMd5) {
          auto c = Md5(bytes);
          if (c.ok()) code.assign(c->bytes().begin(), c->bytes().end());
        } else if (s == SignalType::kSha1) {
          auto c = Sha1(bytes);
          if (c.ok()) code.assign(c->bytes().begin(), c->bytes().end());
        } else {
          auto c = Sha256(bytes);
          if (c.ok()) code.assign(c->bytes().begin(), c->bytes().end());
        }
        if (!code.empty()) q.hashes.push_back(QueryHash{s, std::move(code)});
      }
      if (q.hashes.empty()) q.error = h.status();
      auto hl = ir.initHashes(q.hashes.size());
      for (size_t k = 0; k < q.hashes.size(); ++k) {
        FillHash(hl[k], q.hashes[k].signal, q.hashes[k].code);
      }
      hashes += q.hashes.size();
    }
    TestingDelay(testing, hashes);
    EngineOptions options = OptionsFromWire(in.getOptions(), max_hits, threads);
    out.queries = queries.size();
    auto r = MatchQueries(*store.GetSnapshot(), std::move(queries), options);
    if (!r.ok()) throw StatusError(r.status());
    Audit(caller, *r);
    out.hits = r->total_hits;
    FillMatchResult(results.initResult(), *r);
    return out;
  }
};

}  // namespace

wire::Matcher::Client NewMatcher(ServiceState& state, std::shared_ptr<const Principal> who) {
  return kj::heap<MatcherImpl>(state, std::move(who));
}

}  // namespace hashmatch::daemon
