#include "progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

namespace hashmatch::cli {

namespace {

constexpr auto kRedrawInterval = std::chrono::milliseconds(100);

std::string FormatDuration(double seconds) {
  const long s = long(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, s / 60 % 60);
  } else if (s >= 60) {
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lds", s);
  }
  return buf;
}

// Columns of the terminal on `out` (80 when it is not one, or does not say).
size_t TerminalWidth(std::FILE* out) {
  winsize ws{};
  const int fd = fileno(out);
  if (fd >= 0 && isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
    return ws.ws_col;
  }
  return 80;
}

}  // namespace

bool ProgressEnabled(ProgressMode mode) {
  switch (mode) {
    case ProgressMode::kAlways:
      return true;
    case ProgressMode::kNever:
      return false;
    case ProgressMode::kAuto:
      break;
  }
  return isatty(STDERR_FILENO) == 1;
}

ProgressBar::ProgressBar(bool enabled, std::string label, std::FILE* out)
    : enabled_(enabled),
      label_(std::move(label)),
      out_(out),
      start_(std::chrono::steady_clock::now()) {}

void ProgressBar::Update(size_t done, size_t failed, bool force) {
  if (!enabled_ || finished_) return;
  done_ = done;
  failed_ = failed;
  const auto now = std::chrono::steady_clock::now();
  if (!force && ever_drawn_ && now - last_draw_ < kRedrawInterval) return;
  last_draw_ = now;
  ever_drawn_ = true;
  Draw();
}

void ProgressBar::Draw() {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? double(done_) / elapsed : 0;
  char counts[64], percent[16] = "", speed[32];
  std::snprintf(counts, sizeof counts, "%zu/%zu", done_, total_);
  if (total_ > 0) std::snprintf(percent, sizeof percent, "%3d%%", int(done_ * 100 / total_));
  std::snprintf(speed, sizeof speed, "%.1f/s", rate);
  std::string tail = std::string(counts) + "  " + percent + "  " + speed;
  if (done_ < total_ && rate > 0) tail += "  ETA " + FormatDuration(double(total_ - done_) / rate);
  if (failed_ > 0) tail += "  " + std::to_string(failed_) + " failed";

  // One column spare: writing the last column makes some terminals wrap.
  const size_t width = TerminalWidth(out_) - 1;
  std::string line = label_ + " ";
  const size_t fixed = line.size() + 3 + tail.size();  // "[" "] " around the bar
  if (total_ > 0 && fixed + 10 <= width) {
    const size_t bar = std::min<size_t>(width - fixed, 40);
    const size_t filled = std::min(bar, done_ * bar / total_);
    // Appended piecewise: "[" + std::string(...) trips GCC 12's -Wrestrict (a false positive).
    line += '[';
    line.append(filled, '#').append(bar - filled, '.');
    line += "] ";
  }
  line += tail;
  if (line.size() > width) line.resize(width);
  // Pad over what the previous draw left, so a shorter line leaves no stale characters.
  const size_t pad = drawn_width_ > line.size() ? drawn_width_ - line.size() : 0;
  std::fprintf(out_, "\r%s%*s", line.c_str(), int(pad), "");
  if (pad > 0) std::fprintf(out_, "\r%s", line.c_str());
  std::fflush(out_);
  drawn_width_ = line.size();
}

void ProgressBar::Clear() {
  if (!enabled_ || drawn_width_ == 0) return;
  std::fprintf(out_, "\r%*s\r", int(drawn_width_), "");
  std::fflush(out_);
  drawn_width_ = 0;
}

void ProgressBar::Finish() {
  if (finished_) return;
  Clear();
  finished_ = true;
}

}  // namespace hashmatch::cli
