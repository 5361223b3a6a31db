#pragma once
// Thread-safety annotations: which mutex guards a member, which a function
// needs held or must not hold. Clang's attributes where the compiler is
// clang (the fuzz and ThreadSanitizer builds), nothing under GCC; written
// where a comment used to say the same, so that a name that stops existing
// or a member that loses its mutex breaks the clang build rather than going
// stale.
//
//   std::map<std::string, int64_t> stocks_ GUARDED_BY(mu_);
//   int running_ GUARDED_BY(mu_) = 0;
//   void Flush() REQUIRES(mu_);
//
// Clang's -Wthread-safety analysis is not switched on: libstdc++'s
// std::mutex and std::lock_guard carry no capability attributes, so it would
// report every guarded access. Doing that needs an annotated mutex type of
// our own in every class (docs/decisions.md).

#if defined(__clang__)
#define CRMHUB_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define CRMHUB_THREAD_ANNOTATION(x)
#endif

#define GUARDED_BY(x) CRMHUB_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) CRMHUB_THREAD_ANNOTATION(pt_guarded_by(x))
#define REQUIRES(...) CRMHUB_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) CRMHUB_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
