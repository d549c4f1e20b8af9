// The Prometheus text exposition of the daemon's counters and the store's sets (/metrics), kept
// apart from the HTTP server (http_status.cc) so that it compiles fast and can be tested alone.
#pragma once

#include <string>

#include "service_state.h"

namespace hashmatch::daemon {

// Safe from any thread: reads atomics and one store snapshot.
std::string RenderMetrics(ServiceState& state);

}  // namespace hashmatch::daemon
