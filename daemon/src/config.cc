#include "hashmatch/daemon/config.h"

#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

#include "access.h"
#include "hashmatch/core/digest.h"
#include "hashmatch/core/gpu_mirror.h"
#include "hashmatch/core/hex.h"

namespace hashmatch::daemon {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::vector<std::string> SplitWords(std::string_view s) {
  std::vector<std::string> out;
  std::istringstream in{std::string(s)};
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

template <class T>
bool ParseNumber(std::string_view v, T* out) {
  // Accept digit group separators as written in docs ("10_000").
  std::string digits;
  for (char c : v) {
    if (c != '_') digits += c;
  }
  T x{};
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), x);
  if (ec != std::errc() || p != digits.data() + digits.size() || digits.empty()) return false;
  *out = x;
  return true;
}

class Parser {
 public:
  Parser(std::string_view name, std::filesystem::path base) : name_(name), base_(std::move(base)) {}

  Result<DaemonConfig> Parse(std::string_view text) {
    size_t line_no = 0;
    while (!text.empty()) {
      const size_t nl = text.find('\n');
      std::string_view line = text.substr(0, nl);
      text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
      ++line_no;
      line_ = line_no;
      line = Trim(line);
      if (line.empty() || line[0] == '#' || line[0] == ';') continue;
      if (line[0] == '[') {
        if (line.back() != ']') return Error("expected ']' at the end of a section header");
        section_ = std::string(Trim(line.substr(1, line.size() - 2)));
        if (section_ != "server" && section_ != "limits" && section_ != "tokens" &&
            section_ != "testing" && section_ != "quarantine" && section_ != "index") {
          return Error("unknown section [" + section_ + "]");
        }
        continue;
      }
      const size_t eq = line.find('=');
      if (eq == std::string_view::npos) return Error("expected 'key = value'");
      const std::string key(Trim(line.substr(0, eq)));
      std::string_view value = Trim(line.substr(eq + 1));
      // A trailing comment: " # ..." (a '#' inside a value needs no space before it).
      for (const char* c : {" #", "\t#", " ;", "\t;"}) {
        const size_t h = value.find(c);
        if (h != std::string_view::npos) value = Trim(value.substr(0, h));
      }
      if (key.empty()) return Error("empty key");
      if (section_.empty()) return Error("'" + key + "' outside a section");
      if (!seen_.insert(section_ + "." + key).second) {
        return Error("'" + key + "' repeated in [" + section_ + "]");
      }
      Status st = Set(key, std::string(value));
      if (!st.ok()) return st;
    }
    if (cfg_.store.empty())
      return Status::InvalidArgument(std::string(name_) + ": no [server] store");
    // Beside the store's own files: the quarantined entries name the store's sets and keys, so
    // they move, are backed up and are removed with it. The store keeps files it does not know.
    if (cfg_.quarantine.state_file.empty()) {
      cfg_.quarantine.state_file = cfg_.store / kDefaultQuarantineFile;
    }
    if (cfg_.tls_cert.empty() != cfg_.tls_key.empty()) {
      return Status::InvalidArgument(std::string(name_) +
                                     ": [server] tls_cert and tls_key go together");
    }
    if (cfg_.listen.empty() && cfg_.unix_socket.empty()) {
      return Status::InvalidArgument(std::string(name_) +
                                     ": neither [server] listen nor unix_socket is set");
    }
    return std::move(cfg_);
  }

 private:
  Status Error(const std::string& why) const {
    return Status::InvalidArgument(std::string(name_) + ":" + std::to_string(line_) + ": " + why);
  }

  std::filesystem::path PathValue(const std::string& v) const {
    std::filesystem::path p(v);
    return p.is_relative() && !v.empty() ? base_ / p : p;
  }

  template <class T>
  Status Number(const std::string& key, const std::string& v, T* out) {
    if (!ParseNumber(v, out)) return Error("'" + key + "' expects a number, got '" + v + "'");
    return Status::Ok();
  }

  Status Set(const std::string& key, const std::string& v) {
    if (section_ == "server") return SetServer(key, v);
    if (section_ == "limits") return SetLimit(key, v);
    if (section_ == "testing") return SetTesting(key, v);
    if (section_ == "quarantine") return SetQuarantine(key, v);
    if (section_ == "index") return SetIndex(key, v);
    return SetToken(key, v);
  }

  Status SetServer(const std::string& key, const std::string& v) {
    if (key == "listen") {
      if (!v.empty() && v.rfind(':') == std::string::npos) {
        return Error("listen expects HOST:PORT, got '" + v + "'");
      }
      cfg_.listen = v;
    } else if (key == "unix_socket") {
      cfg_.unix_socket = PathValue(v);
    } else if (key == "port_file") {
      cfg_.port_file = PathValue(v);
    } else if (key == "tls_cert") {
      cfg_.tls_cert = PathValue(v);
    } else if (key == "tls_key") {
      cfg_.tls_key = PathValue(v);
    } else if (key == "store") {
      cfg_.store = PathValue(v);
    } else if (key == "create_store") {
      if (v != "true" && v != "false") return Error("create_store expects true or false");
      cfg_.create_store = v == "true";
    } else if (key == "workers") {
      return Number(key, v, &cfg_.workers);
    } else if (key == "match_threads") {
      return Number(key, v, &cfg_.match_threads);
    } else if (key == "audit_log") {
      cfg_.audit_log = PathValue(v);
    } else if (key == "http_listen") {
      if (!v.empty() && v.rfind(':') == std::string::npos) {
        return Error("http_listen expects HOST:PORT, got '" + v + "'");
      }
      cfg_.http_listen = v;
    } else if (key == "http_port_file") {
      cfg_.http_port_file = PathValue(v);
    } else {
      return Error("unknown key '" + key + "' in [server]");
    }
    return Status::Ok();
  }

  Status SetLimit(const std::string& key, const std::string& v) {
    Limits& l = cfg_.limits;
    Status st;
    if (key == "max_message_bytes") {
      st = Number(key, v, &l.max_message_bytes);
      if (st.ok() && l.max_message_bytes < 4096) return Error("max_message_bytes below 4096");
    } else if (key == "max_nesting") {
      st = Number(key, v, &l.max_nesting);
      if (st.ok() && l.max_nesting < 4) return Error("max_nesting below 4");
    } else if (key == "max_inflight_bytes") {
      st = Number(key, v, &l.max_inflight_bytes);
    } else if (key == "max_batch") {
      st = Number(key, v, &l.max_batch);
    } else if (key == "max_hashes_per_query") {
      st = Number(key, v, &l.max_hashes_per_query);
    } else if (key == "max_images") {
      st = Number(key, v, &l.max_images);
    } else if (key == "max_image_bytes") {
      st = Number(key, v, &l.max_image_bytes);
    } else if (key == "max_image_pixels") {
      st = Number(key, v, &l.max_image_pixels);
    } else if (key == "max_page_records") {
      st = Number(key, v, &l.max_page_records);
    } else if (key == "max_hits_per_query") {
      st = Number(key, v, &l.max_hits_per_query);
    } else if (key == "max_connections") {
      st = Number(key, v, &l.max_connections);
    } else if (key == "max_queued_calls") {
      st = Number(key, v, &l.max_queued_calls);
    } else if (key == "call_deadline_ms") {
      st = Number(key, v, &l.call_deadline_ms);
    } else if (key == "auth_timeout_ms") {
      st = Number(key, v, &l.auth_timeout_ms);
    } else if (key == "auth_failure_delay_ms") {
      st = Number(key, v, &l.auth_failure_delay_ms);
    } else {
      return Error("unknown key '" + key + "' in [limits]");
    }
    return st;
  }

  Status SetTesting(const std::string& key, const std::string& v) {
    TestingConfig& t = cfg_.testing;
    if (key == "load_delay_ms") return Number(key, v, &t.load_delay_ms);
    if (key == "match_delay_ms") return Number(key, v, &t.match_delay_ms);
    if (key == "match_delay_min_hashes") return Number(key, v, &t.match_delay_min_hashes);
    return Error("unknown key '" + key + "' in [testing]");
  }

  Status SetQuarantine(const std::string& key, const std::string& v) {
    QuarantineSettings& q = cfg_.quarantine;
    if (key == "min_hits_per_minute") return Number(key, v, &q.min_hits_per_minute);
    if (key == "state_file") {
      // No way to turn persistence off: a restart must not release what was quarantined.
      if (v.empty()) {
        return Error("state_file expects a path (default: STORE/" +
                     std::string(kDefaultQuarantineFile) + ")");
      }
      q.state_file = PathValue(v);
      return Status::Ok();
    }
    if (key == "surge_factor") {
      try {
        size_t used = 0;
        q.surge_factor = std::stod(v, &used);
        if (used != v.size() || q.surge_factor < 1) throw 0;
      } catch (...) {
        return Error("surge_factor expects a number >= 1, got '" + v + "'");
      }
      return Status::Ok();
    }
    return Error("unknown key '" + key + "' in [quarantine]");
  }

  Status SetIndex(const std::string& key, const std::string& v) {
    IndexSettings& x = cfg_.index;
    if (key == "gpu") {
      auto mode = ParseGpuMode(v);
      if (!mode.ok()) return Error("gpu expects off, auto or on, got '" + v + "'");
      x.gpu = *mode;
      return Status::Ok();
    }
    if (key == "gpu_min_batch") {
      Status st = Number(key, v, &x.gpu_min_batch);
      if (st.ok() && x.gpu_min_batch == 0) return Error("gpu_min_batch must be at least 1");
      return st;
    }
    return Error("unknown key '" + key + "' in [index]");
  }

  // NAME = SHA256-HEX ROLE [ROLE...]
  Status SetToken(const std::string& key, const std::string& v) {
    std::vector<std::string> words = SplitWords(v);
    if (words.size() < 2) {
      return Error("token '" + key + "' expects '<sha256 hex> <role> [<role>...]'");
    }
    TokenConfig t;
    t.name = key;
    if (Status st = DecodeHex(words[0], t.sha256); !st.ok()) {
      return Error("token '" + key + "': digest: " + st.message() +
                   " (store the SHA-256 of the token, never the token)");
    }
    t.roles.assign(words.begin() + 1, words.end());
    auto p = MakePrincipal(t.name, t.roles);
    if (!p.ok()) return Error(p.status().message());
    for (const TokenConfig& other : cfg_.tokens) {
      if (other.sha256 == t.sha256) {
        return Error("token '" + key + "' has the same digest as '" + other.name + "'");
      }
    }
    cfg_.tokens.push_back(std::move(t));
    return Status::Ok();
  }

  std::string_view name_;
  std::filesystem::path base_;
  DaemonConfig cfg_;
  std::string section_;
  std::set<std::string> seen_;
  size_t line_ = 0;
};

}  // namespace

Result<DaemonConfig> ParseConfig(std::string_view text, std::string_view name,
                                 const std::filesystem::path& base_dir) {
  return Parser(name, base_dir).Parse(text);
}

Result<DaemonConfig> LoadConfig(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError("cannot read config file " + path.string());
  std::stringstream ss;
  ss << in.rdbuf();
  auto cfg = ParseConfig(ss.str(), path.string(), path.parent_path());
  if (cfg.ok()) cfg->path = path;
  return cfg;
}

std::string TokenDigestHex(std::string_view token) {
  auto d = Sha256(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(token.data()), token.size()));
  return d.ok() ? ToHex(*d) : std::string();
}

}  // namespace hashmatch::daemon
