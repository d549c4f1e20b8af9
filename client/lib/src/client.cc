// The client's event-loop thread and the blocking calls that marshal onto it.
//
// Each Client owns a thread running a kj event loop with the connection, the two-party RPC system
// and the capabilities. A public call runs a lambda on that loop with kj::Executor::executeSync,
// which needs no event loop on the calling thread and blocks it until the lambda's promise
// resolves; kj exceptions come back to the caller and become Errors. Capabilities are touched
// only on the loop thread.
#include <capnp/message.h>
#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>
#include <kj/compat/tls.h>

#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "client_convert.h"
#include "hashmatch/client/client.h"

namespace hashmatch::client {

using internal::ToError;

struct Client::Impl {
  ConnectOptions options;
  Grant grant;
  std::thread thread;
  const kj::Executor* executor = nullptr;

  // Loop-thread state.
  kj::Timer* timer = nullptr;
  kj::Own<kj::TlsCertificate> tls_ca;
  kj::Own<kj::TlsContext> tls;
  kj::Own<kj::AsyncIoStream> stream;
  kj::Own<capnp::TwoPartyVatNetwork> network;
  kj::Own<capnp::RpcSystem<capnp::rpc::twoparty::VatId>> rpc;
  kj::Maybe<wire::Gate::Client> gate;
  kj::Maybe<wire::Matcher::Client> matcher;
  kj::Maybe<wire::SetAdmin::Client> sets;
  kj::Maybe<wire::Sync::Client> sync;
  kj::Maybe<wire::Health::Client> health;
  kj::Own<kj::PromiseFulfiller<void>> stop;

  ~Impl() {
    if (executor != nullptr) {
      executor->executeSync([this]() { stop->fulfill(); });
    }
    if (thread.joinable()) thread.join();
  }

  // Applies the call timeout on the loop thread.
  template <class T>
  kj::Promise<T> Bounded(kj::Promise<T> p) {
    if (options.timeout.count() <= 0) return p;
    return timer->timeoutAfter(options.timeout.count() * kj::MILLISECONDS, kj::mv(p))
        .catch_([ms = options.timeout.count()](kj::Exception&& e) -> kj::Promise<T> {
          if (e.getType() == kj::Exception::Type::OVERLOADED &&
              std::string(e.getDescription().cStr()).find("timed out") != std::string::npos) {
            const std::string d = "deadline_exceeded: no answer within the client timeout (" +
                                  std::to_string(ms) + " ms)";
            return kj::Exception(kj::Exception::Type::OVERLOADED, __FILE__, __LINE__,
                                 kj::heapString(d.data(), d.size()));
          }
          return kj::mv(e);
        });
  }

  // Runs `fn` (returning kj::Promise<T>) on the loop and waits for it.
  template <class T, class F>
  Result<T> Call(F&& fn) {
    Result<T> out = Error{"internal", "no result"};
    KJ_IF_MAYBE (e, kj::runCatchingExceptions([&]() {
                   out = executor->executeSync(
                       [&]() -> kj::Promise<T> { return Bounded<T>(kj::evalNow(fn)); });
                 })) {
      return ToError(*e);
    }
    return out;
  }

  template <class C>
  static Result<C> Need(kj::Maybe<C>& cap, const char* what) {
    KJ_IF_MAYBE (c, cap) {
      return *c;
    }
    return Error{"permission_denied", std::string("this connection holds no ") + what +
                                          " capability (not authenticated, or the token's roles "
                                          "do not allow it)"};
  }

  void Loop(std::promise<Error>* ready);

  void SetUpTls() {
    kj::TlsContext::Options o;
    if (!options.tls_ca_file.empty()) {
      std::ifstream in(options.tls_ca_file, std::ios::binary);
      if (!in) throw KJ_EXCEPTION(FAILED, "cannot read tls_ca_file", options.tls_ca_file);
      std::stringstream ss;
      ss << in.rdbuf();
      const std::string pem = ss.str();
      tls_ca = kj::heap<kj::TlsCertificate>(kj::StringPtr(pem.c_str()));
      o.useSystemTrustStore = false;
      o.trustedCertificates = kj::arrayPtr(tls_ca.get(), 1);
    }
    tls = kj::heap<kj::TlsContext>(kj::mv(o));
  }

  // The name the server's certificate must carry.
  std::string server_name_;
  const std::string& ServerName() {
    if (!options.tls_server_name.empty()) return options.tls_server_name;
    std::string host = options.address.substr(0, options.address.rfind(':'));
    if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
    server_name_ = host;
    return server_name_;
  }
};

void Client::Impl::Loop(std::promise<Error>* ready) {
  auto io = kj::setupAsyncIo();
  timer = &io.provider->getTimer();
  Error failed;
  KJ_IF_MAYBE (e, kj::runCatchingExceptions([&]() {
                 auto connect = io.provider->getNetwork()
                                    .parseAddress(kj::StringPtr(options.address.c_str()))
                                    .then([](kj::Own<kj::NetworkAddress> addr) {
                                      return addr->connect().attach(kj::mv(addr));
                                    });
                 if (options.tls) {
                   SetUpTls();
                   connect = connect.then([this](kj::Own<kj::AsyncIoStream> raw) {
                     return tls->wrapClient(kj::mv(raw), kj::StringPtr(ServerName().c_str()));
                   });
                 }
                 stream = Bounded(kj::mv(connect)).wait(io.waitScope);
               })) {
    failed = ToError(*e);
    failed = Error{"unavailable", "cannot connect to " + options.address + ": " + failed.message};
    ready->set_value(failed);
    return;
  }
  capnp::ReaderOptions reader;
  reader.traversalLimitInWords = options.max_message_bytes / 8;
  network =
      kj::heap<capnp::TwoPartyVatNetwork>(*stream, capnp::rpc::twoparty::Side::CLIENT, reader);
  rpc = kj::heap<capnp::RpcSystem<capnp::rpc::twoparty::VatId>>(capnp::makeRpcClient(*network));
  {
    capnp::MallocMessageBuilder message;
    auto vat = message.initRoot<capnp::rpc::twoparty::VatId>();
    vat.setSide(capnp::rpc::twoparty::Side::SERVER);
    gate = rpc->bootstrap(vat).castAs<wire::Gate>();
  }
  auto paf = kj::newPromiseAndFulfiller<void>();
  stop = kj::mv(paf.fulfiller);
  executor = &kj::getCurrentThreadExecutor();
  ready->set_value(Error{});
  paf.promise.wait(io.waitScope);
  // Tear down in order, on this thread.
  gate = nullptr;
  matcher = nullptr;
  sets = nullptr;
  sync = nullptr;
  health = nullptr;
  rpc = nullptr;
  network = nullptr;
  stream = nullptr;
  tls = nullptr;
  tls_ca = nullptr;
}

// Fails the call with permission_denied, without a round trip, when the grant lacks `cap`.
namespace {

kj::Exception AsException(const Error& e) {
  const std::string d = e.code + ": " + e.message;
  return kj::Exception(kj::Exception::Type::FAILED, __FILE__, __LINE__,
                       kj::heapString(d.data(), d.size()));
}

template <class C>
C Require(kj::Maybe<C>& cap, const char* what) {
  auto c = Client::Impl::Need(cap, what);
  if (!c.ok()) throw AsException(c.error());
  return kj::mv(*c);
}

}  // namespace

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::Connect(const ConnectOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  std::promise<Error> ready;
  auto started = ready.get_future();
  Impl* raw = impl.get();
  impl->thread = std::thread([raw, &ready]() { raw->Loop(&ready); });
  Error e = started.get();
  if (!e.ok()) return e;  // ~Impl joins the thread, which has returned
  std::unique_ptr<Client> client(new Client(std::move(impl)));
  if (!options.token.empty()) {
    auto g = client->Authenticate(options.token);
    if (!g.ok()) return g.error();
  }
  return client;
}

const Grant& Client::grant() const {
  return impl_->grant;
}

Result<ServerInfo> Client::Info() {
  Impl* d = impl_.get();
  return d->Call<ServerInfo>([d]() {
    return Require(d->gate, "gate").infoRequest().send().then([](auto r) {
      auto i = r.getInfo();
      return ServerInfo{i.getSchemaVersion(), std::string(i.getServerVersion().cStr()),
                        i.getReady()};
    });
  });
}

Result<Grant> Client::Authenticate(const std::string& token) {
  Impl* d = impl_.get();
  auto g = d->Call<Grant>([d, &token]() {
    auto req = Require(d->gate, "gate").authenticateRequest();
    req.setToken(token);
    return req.send().then([d](auto r) {
      auto g = r.getGrant();
      Grant out;
      out.principal = g.getPrincipal().cStr();
      for (auto role : g.getRoles()) out.roles.emplace_back(role.cStr());
      if ((out.matcher = g.hasMatcher())) d->matcher = g.getMatcher();
      if ((out.sets = g.hasSets())) d->sets = g.getSets();
      if ((out.sync = g.hasSync())) d->sync = g.getSync();
      if ((out.health = g.hasHealth())) d->health = g.getHealth();
      return out;
    });
  });
  if (g.ok()) d->grant = *g;
  return g;
}

Result<MatchResponse> Client::Match(const std::vector<Query>& queries,
                                    const MatchOptions& options) {
  Impl* d = impl_.get();
  return d->Call<MatchResponse>([&]() {
    auto req = Require(d->matcher, "matcher").matchRequest();
    Error e = internal::FillQueries(req.initQueries(queries.size()), queries);
    if (!e.ok()) throw AsException(e);
    internal::FillMatchOptions(req.initOptions(), options);
    return req.send().then([](auto r) { return internal::ToMatchResponse(r.getResult()); });
  });
}

Result<MatchImagesResponse> Client::MatchImages(const std::vector<std::vector<uint8_t>>& images,
                                                const MatchOptions& options, bool dihedral,
                                                const std::vector<std::string>& digests) {
  Impl* d = impl_.get();
  return d->Call<MatchImagesResponse>([&]() {
    auto req = Require(d->matcher, "matcher").matchImagesRequest();
    auto list = req.initImages(images.size());
    for (size_t i = 0; i < images.size(); ++i) {
      list.set(i, capnp::Data::Reader(images[i].data(), images[i].size()));
    }
    internal::FillMatchOptions(req.initOptions(), options);
    req.setDihedral(dihedral);
    auto dl = req.initDigests(digests.size());
    for (size_t i = 0; i < digests.size(); ++i) {
      wire::SignalType s;
      if (!internal::SignalToWire(digests[i], &s)) {
        throw AsException(Error{"invalid_argument", "unknown digest '" + digests[i] + "'"});
      }
      dl.set(i, s);
    }
    return req.send().then([](auto r) {
      MatchImagesResponse out;
      out.match = internal::ToMatchResponse(r.getResult());
      for (auto i : r.getImages()) out.images.push_back(internal::ToImageResult(i));
      return out;
    });
  });
}

Result<std::vector<SetInfo>> Client::ListSets() {
  Impl* d = impl_.get();
  return d->Call<std::vector<SetInfo>>([&]() {
    return Require(d->sets, "set admin").listSetsRequest().send().then([](auto r) {
      std::vector<SetInfo> out;
      for (auto s : r.getSets()) out.push_back(internal::ToSetInfo(s));
      return out;
    });
  });
}

Result<SetInfo> Client::GetSet(const std::string& name) {
  Impl* d = impl_.get();
  return d->Call<SetInfo>([&]() {
    auto req = Require(d->sets, "set admin").getSetRequest();
    req.setName(name);
    return req.send().then([](auto r) { return internal::ToSetInfo(r.getSet()); });
  });
}

Result<SetInfo> Client::CreateSet(const SetConfig& config) {
  Impl* d = impl_.get();
  return d->Call<SetInfo>([&]() {
    auto req = Require(d->sets, "set admin").createSetRequest();
    Error e = internal::FillSetConfig(req.initConfig(), config);
    if (!e.ok()) throw AsException(e);
    return req.send().then([](auto r) { return internal::ToSetInfo(r.getSet()); });
  });
}

Result<SetInfo> Client::ConfigureSet(const std::string& name, const SetUpdate& update) {
  Impl* d = impl_.get();
  return d->Call<SetInfo>([&]() {
    auto req = Require(d->sets, "set admin").configureSetRequest();
    req.setName(name);
    internal::FillSetUpdate(req.initUpdate(), update);
    return req.send().then([](auto r) { return internal::ToSetInfo(r.getSet()); });
  });
}

Error Client::DropSet(const std::string& name) {
  Impl* d = impl_.get();
  auto r = d->Call<bool>([&]() {
    auto req = Require(d->sets, "set admin").dropSetRequest();
    req.setName(name);
    return req.send().then([](auto) { return true; });
  });
  return r.ok() ? Error{} : r.error();
}

Result<SetInfo> Client::SetEntryEnabled(const std::string& set, const std::string& key,
                                        bool enabled) {
  Impl* d = impl_.get();
  return d->Call<SetInfo>([&]() {
    auto req = Require(d->sets, "set admin").setEntryEnabledRequest();
    req.setSet(set);
    req.setKey(key);
    req.setEnabled(enabled);
    return req.send().then([](auto r) { return internal::ToSetInfo(r.getSet()); });
  });
}

Result<std::vector<QuarantinedEntry>> Client::ListQuarantined() {
  Impl* d = impl_.get();
  return d->Call<std::vector<QuarantinedEntry>>([&]() {
    return Require(d->sets, "set admin").listQuarantinedRequest().send().then([](auto r) {
      std::vector<QuarantinedEntry> out;
      for (auto e : r.getEntries()) {
        out.push_back(QuarantinedEntry{e.getSet().cStr(), e.getKey().cStr(), e.getSince(),
                                       e.getHitsThisMinute(), e.getUsualPerMinute()});
      }
      return out;
    });
  });
}

Result<bool> Client::ReleaseQuarantined(const std::string& set, const std::string& key) {
  Impl* d = impl_.get();
  return d->Call<bool>([&]() {
    auto req = Require(d->sets, "set admin").releaseQuarantinedRequest();
    req.setSet(set);
    req.setKey(key);
    return req.send().then([](auto r) { return r.getReleased(); });
  });
}

Result<CommitStats> Client::ApplyPage(const std::string& set, const Page& page) {
  Impl* d = impl_.get();
  return d->Call<CommitStats>([&]() {
    auto req = Require(d->sync, "sync").applyPageRequest();
    req.setSet(set);
    Error e = internal::FillPage(req.initPage(), page);
    if (!e.ok()) throw AsException(e);
    return req.send().then([](auto r) { return internal::ToCommitStats(r.getStats()); });
  });
}

Result<SetCheckpoint> Client::GetCheckpoint(const std::string& set) {
  Impl* d = impl_.get();
  return d->Call<SetCheckpoint>([&]() {
    auto req = Require(d->sync, "sync").getCheckpointRequest();
    req.setSet(set);
    return req.send().then([](auto r) {
      SetCheckpoint c;
      if (r.getHasCheckpoint()) c.checkpoint = std::string(r.getCheckpoint().cStr());
      c.version = r.getVersion();
      c.last_sync_time = r.getLastSyncTime();
      return c;
    });
  });
}

Result<Health> Client::GetHealth() {
  Impl* d = impl_.get();
  return d->Call<Health>([&]() {
    return Require(d->health, "health").healthRequest().send().then([](auto r) {
      return Health{r.getReady(), std::string(r.getState().cStr())};
    });
  });
}

Result<ServerStats> Client::GetStats() {
  Impl* d = impl_.get();
  return d->Call<ServerStats>([&]() {
    return Require(d->health, "health").statsRequest().send().then([](auto r) {
      return internal::ToStats(r.getStats());
    });
  });
}

Result<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{"not_found", "cannot read token file " + path};
  std::string line;
  std::getline(in, line);
  const auto b = line.find_first_not_of(" \t\r\n");
  const auto e = line.find_last_not_of(" \t\r\n");
  if (b == std::string::npos) return Error{"invalid_argument", "token file " + path + " is empty"};
  return line.substr(b, e - b + 1);
}

}  // namespace hashmatch::client
