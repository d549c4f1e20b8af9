// MD5, SHA-1 and SHA-256 through OpenSSL's EVP interface (one code path for the three; EVP also
// picks the CPU's SHA extensions when present).
#include "hashmatch/core/digest.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace hashmatch {
namespace {

struct CtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_MD_CTX, CtxDeleter>;

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

Result<Ctx> Begin(const EVP_MD* md, const char* name) {
  Ctx ctx(EVP_MD_CTX_new());
  if (!ctx) return Status::Internal("EVP_MD_CTX_new failed");
  if (md == nullptr || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) {
    return Status::Unsupported(std::string(name) + " is not available from this OpenSSL");
  }
  return ctx;
}

template <class Code>
Result<Code> Finish(EVP_MD_CTX* ctx, const char* name) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx, md, &len) != 1 || len != Code::kSize) {
    return Status::Internal(std::string(name) + ": EVP_DigestFinal_ex failed");
  }
  return Code(std::span<const uint8_t, Code::kSize>(md, Code::kSize));
}

template <class Code>
Result<Code> DigestBytes(const EVP_MD* md, const char* name, std::span<const uint8_t> bytes) {
  auto ctx = Begin(md, name);
  if (!ctx.ok()) return ctx.status();
  if (EVP_DigestUpdate(ctx->get(), bytes.data(), bytes.size()) != 1) {
    return Status::Internal(std::string(name) + ": EVP_DigestUpdate failed");
  }
  return Finish<Code>(ctx->get(), name);
}

template <class Code>
Result<Code> DigestFile(const EVP_MD* md, const char* name, const std::filesystem::path& path) {
  auto ctx = Begin(md, name);
  if (!ctx.ok()) return ctx.status();
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) {
    const int err = errno;
    const std::string why = path.string() + ": cannot open: " + std::strerror(err);
    return err == ENOENT ? Status::NotFound(why) : Status::IoError(why);
  }
  // Streamed: memory stays at one chunk whatever the file's size.
  std::vector<uint8_t> buf(size_t(1) << 20);
  for (;;) {
    const size_t n = std::fread(buf.data(), 1, buf.size(), f.get());
    if (n > 0 && EVP_DigestUpdate(ctx->get(), buf.data(), n) != 1) {
      return Status::Internal(std::string(name) + ": EVP_DigestUpdate failed");
    }
    if (n < buf.size()) {
      if (std::ferror(f.get())) return Status::IoError(path.string() + ": read error");
      break;
    }
  }
  return Finish<Code>(ctx->get(), name);
}

}  // namespace

Result<Md5Digest> Md5(std::span<const uint8_t> bytes) {
  return DigestBytes<Md5Digest>(EVP_md5(), "MD5", bytes);
}
Result<Sha1Digest> Sha1(std::span<const uint8_t> bytes) {
  return DigestBytes<Sha1Digest>(EVP_sha1(), "SHA-1", bytes);
}
Result<Sha256Digest> Sha256(std::span<const uint8_t> bytes) {
  return DigestBytes<Sha256Digest>(EVP_sha256(), "SHA-256", bytes);
}

Result<Md5Digest> Md5File(const std::filesystem::path& path) {
  return DigestFile<Md5Digest>(EVP_md5(), "MD5", path);
}
Result<Sha1Digest> Sha1File(const std::filesystem::path& path) {
  return DigestFile<Sha1Digest>(EVP_sha1(), "SHA-1", path);
}
Result<Sha256Digest> Sha256File(const std::filesystem::path& path) {
  return DigestFile<Sha256Digest>(EVP_sha256(), "SHA-256", path);
}

}  // namespace hashmatch
