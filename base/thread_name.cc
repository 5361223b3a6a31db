#include "base/thread_name.h"

#include <pthread.h>

#include <string>

namespace crmhub {

void SetCurrentThreadName(std::string_view name) {
  std::string cut(name.substr(0, 15));
  // Best effort: a name is a debugging aid, never a reason to fail.
  (void)pthread_setname_np(pthread_self(), cut.c_str());
}

}  // namespace crmhub
