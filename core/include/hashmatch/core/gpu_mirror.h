// The hook through which LiveIndex gets GPU mirrors of its bases (LiveIndexOptions::gpu).
//
// core is built without CUDA (and must work without it: sanitizer builds, -DHASHMATCH_CUDA=OFF),
// so it cannot call the GPU matcher itself. The GPU matcher (core/cuda, library
// hashmatch_gpu_index, built only with CUDA) installs a factory at run time: a program linked with
// it calls hashmatch::EnableGpuMirrors() (core/cuda/gpu_index.h) once, as hashmatchd does. With no
// factory installed, gpu mode "on" is refused with a Status that says so, and "auto" runs on the
// CPU.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "hashmatch/core/index.h"
#include "hashmatch/core/live_index.h"
#include "hashmatch/core/status.h"

namespace hashmatch {

struct GpuMirrorFactory {
  // Ok when `build` can succeed for `options` (for the real backend: a GPU is visible), else why
  // not. Must be thread-safe.
  Status (*available)(const LiveIndexGpuOptions& options) = nullptr;
  // An exact HammingIndex over `codes` with ids `ids` (LiveIndex passes the base's row numbers),
  // honouring index.h's contract (caps keep the nearest by (distance, id), truncated flags).
  Result<std::shared_ptr<const HammingIndex>> (*build)(
      CodeView codes, std::span<const uint64_t> ids, const LiveIndexGpuOptions& options) = nullptr;
  const char* name = "";  // for logs: "cuda"
};

// Installs `factory` (which must outlive every LiveIndex; a static object) for LiveIndexes
// created afterwards; nullptr uninstalls. Thread-safe.
void SetGpuMirrorFactory(const GpuMirrorFactory* factory);
// The installed factory, or nullptr.
const GpuMirrorFactory* GetGpuMirrorFactory();

// Parses "off", "auto" or "on" (for configuration files); InvalidArgument otherwise.
Result<LiveIndexGpuOptions::Mode> ParseGpuMode(std::string_view text);
const char* GpuModeName(LiveIndexGpuOptions::Mode mode);

}  // namespace hashmatch
