#include <cstdio>

#include "hashmatch/core/distance.h"
#include "hashmatch/core/hex.h"

int main() {
  auto a =
      hashmatch::ParseHash256("f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22");
  auto b =
      hashmatch::ParseHash256("d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22");
  if (!a.ok() || !b.ok()) return 1;
  const auto& k = hashmatch::DistanceKernels::Default();
  std::printf("distance %u via %s\n", k.Distance(a->data(), b->data(), 32),
              std::string(hashmatch::KernelPathName(k.path())).c_str());
  return k.Distance(a->data(), b->data(), 32) == 6 ? 0 : 2;
}
