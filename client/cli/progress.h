// A one-line progress bar on stderr for the CLI's long runs (hashing directories):
//
//   hashing [########......]  1234/5000  24%  412.3/s  ETA 9s  2 failed
//
// It is drawn only when enabled: by default when stderr is a terminal, never with --quiet or
// --no-progress, always with --progress (tests force it through a pipe). It redraws in place with
// '\r' at most ten times a second, fits the terminal width, and is erased (spaces, then '\r') by
// Clear() and Finish(), so nothing is left on the line; it never writes to stdout.
//
// Threads: Update, Clear and Finish must not overlap (HashBatch's progress callback is serialized,
// and the CLI draws from the calling thread only between batches).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>

namespace hashmatch::cli {

enum class ProgressMode { kAuto, kNever, kAlways };

// The --progress / --no-progress / --quiet setting for stderr: kAuto is on when stderr is a
// terminal.
bool ProgressEnabled(ProgressMode mode);

class ProgressBar {
 public:
  ProgressBar(bool enabled, std::string label, std::FILE* out = stderr);
  ~ProgressBar() { Finish(); }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  bool enabled() const { return enabled_; }
  void set_total(size_t total) { total_ = total; }
  // Records the counts; redraws when `force` or when 100 ms have passed since the last draw (the
  // first update always draws).
  void Update(size_t done, size_t failed, bool force = false);
  // Erases the bar before other output goes to the terminal; the next Update draws it again.
  void Clear();
  // Erases the bar for good.
  void Finish();

 private:
  void Draw();

  bool enabled_;
  std::string label_;
  std::FILE* out_;
  size_t total_ = 0, done_ = 0, failed_ = 0;
  size_t drawn_width_ = 0;  // characters on the line now (0: nothing drawn)
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool ever_drawn_ = false;
};

}  // namespace hashmatch::cli
