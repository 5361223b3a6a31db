#pragma once
// Names the calling thread, so `top -H`, `ps -L`, perf and gdb show what each
// of the daemon's threads is for ("crmhub-qwrite", "pull:ozon-main", ...).

#include <string_view>

namespace crmhub {

// Linux keeps at most 15 bytes of a thread name; longer names are cut there.
void SetCurrentThreadName(std::string_view name);

}  // namespace crmhub
