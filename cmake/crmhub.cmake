# Compiler flags for crmhub's own targets. Third-party headers come in as SYSTEM
# includes, so -Werror applies to our code only.
add_library(crmhub_warnings INTERFACE)
target_compile_options(crmhub_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow
  -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough
  # Designated initializers that leave fields at their defaults are the point.
  -Wno-missing-field-initializers)
if(CRMHUB_WERROR)
  target_compile_options(crmhub_warnings INTERFACE -Werror)
endif()

# Size of the sanitizer builds (CI's three tiers). Each of the ~100 test
# binaries links most of the tree; the ASan build directory reached 16 GB
# and a CI machine ran out of disk while linking. An ASan+UBSan crmhub was
# 566 MB: UBSan's per-check data (.data, 190 MB), the dynamic relocations
# pointing into it (.rela.dyn, 167 MB) and debug information.
#  * -g1: line tables only (stack traces keep file:line, not locals);
#  * -gz: zlib-compressed debug sections (GNU ld, addr2line,
#    llvm-symbolizer and the sanitizers' own symbolizer read them);
#  * -z pack-relative-relocs: DT_RELR (binutils 2.38, glibc 2.36) packs
#    the relative relocations into a bitmap.
# Together: 274 MB for the same crmhub.
macro(crmhub_lean_debug_info)
  add_compile_options(-g1 -gz)
  add_link_options(-gz -Wl,-z,pack-relative-relocs)
endmacro()

# The linker: LLVM's lld when an ld.lld 15+ is installed (Debian: lld-16,
# which scripts/bootstrap.sh installs), else the compiler's default: about
# 3x faster on the sanitizer builds' test binaries (docs/decisions.md has
# the pairs); the suite links ~130 of them on every change to a library,
# and CI builds three trees. lld 15 is
# the first with -z pack-relative-relocs (DT_RELR, below); mold 1.10, the
# other candidate, writes DT_RELR without the GLIBC_ABI_DT_RELR version
# glibc 2.36 requires, and its binaries do not start.
# GCC has no --ld-path: -fuse-ld=lld finds `ld.lld` through -B, so the
# build tree gets a directory holding only that name.
option(CRMHUB_LLD "Link with LLVM's lld (ld.lld 15 or newer) when it is installed" ON)
if(CRMHUB_LLD)
  find_program(CRMHUB_LD_LLD NAMES ld.lld-19 ld.lld-18 ld.lld-17 ld.lld-16 ld.lld-15
               DOC "ld.lld 15+ (CRMHUB_LLD)")
  if(CRMHUB_LD_LLD)
    set(lld_dir ${PROJECT_BINARY_DIR}/lld)
    file(MAKE_DIRECTORY ${lld_dir})
    file(CREATE_LINK ${CRMHUB_LD_LLD} ${lld_dir}/ld.lld SYMBOLIC)
    add_link_options(-fuse-ld=lld -B${lld_dir})
    message(STATUS "crmhub: linking with ${CRMHUB_LD_LLD}")
  else()
    message(STATUS "crmhub: no ld.lld 15+ found; linking with the compiler's default linker")
  endif()
endif()

# The fuzz tier (tests/fuzz, scripts/fuzz.sh): clang's libFuzzer with ASan
# and UBSan. Every library is instrumented for coverage; only the fuzz
# targets link the fuzzer's main.
if(CRMHUB_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "CRMHUB_FUZZ needs clang (CMAKE_CXX_COMPILER=clang++)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  crmhub_lean_debug_info()
endif()

# ThreadSanitizer, for the threaded core (scripts/test.sh's TSan stage).
if(CRMHUB_TSAN)
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
  crmhub_lean_debug_info()
endif()

if(CRMHUB_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  crmhub_lean_debug_info()
endif()

# crmhub_library(NAME SOURCES... DEPS ...): a static library of ours with the
# project's warnings and include root.
function(crmhub_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  if(ARG_SOURCES)
    add_library(${name} STATIC ${ARG_SOURCES})
    target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
    target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE crmhub_warnings)
  else()  # headers only so far
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE ${PROJECT_SOURCE_DIR})
    target_link_libraries(${name} INTERFACE ${ARG_DEPS})
  endif()
endfunction()

# crmhub_test(NAME SOURCES... DEPS ... [TIER unit|component|e2e|bench|fuzz|long]
#             [DEFINES NAME=VALUE...]):
# one gtest binary, registered with ctest test by test (gtest_discover_tests),
# so ctest's summary counts real tests. Each test carries its tier as a ctest
# label (`ctest -L unit` runs one tier): TIER, else e2e for names with "e2e",
# bench for names starting "bench_", else the directory's CRMHUB_TEST_TIER,
# else component.
# TIER long is for the full-size variants of slow scenarios: scripts/test.sh
# (CI) leaves them out, `scripts/test.sh -L long` runs them; their ctest
# names end in ".long" so that a binary built twice (a default size and the
# long one, through DEFINES) registers distinct tests.
# RESOURCE_LOCK NAME: the binary's tests never run beside another test
# holding the same lock (ctest --parallel), e.g. the demo's fixed ports.
# TSAN marks a binary whose tests also run under ThreadSanitizer: in a
# -DCRMHUB_TSAN=ON build (scripts/tsan.sh) only those are registered with
# ctest; the others are left out of the default build.
function(crmhub_test name)
  cmake_parse_arguments(ARG "TSAN" "TIMEOUT;TIER;RESOURCE_LOCK" "SOURCES;DEPS;DEFINES" ${ARGN})
  if(NOT ARG_TIER)
    if(name MATCHES "e2e")
      set(ARG_TIER e2e)
    elseif(name MATCHES "^bench_")
      set(ARG_TIER bench)
    elseif(CRMHUB_TEST_TIER)
      set(ARG_TIER ${CRMHUB_TEST_TIER})
    else()
      set(ARG_TIER component)
    endif()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main
                        crmhub_warnings)
  target_compile_definitions(${name} PRIVATE
    CRMHUB_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    CRMHUB_CONTRACTS_DIR="${PROJECT_SOURCE_DIR}/contracts"
    CRMHUB_BINARY="${PROJECT_BINARY_DIR}/crmhub" ${ARG_DEFINES})
  set(suffix "")
  if(ARG_TIER STREQUAL "long")
    set(suffix ".long")
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  if(CRMHUB_TSAN AND NOT ARG_TSAN)
    set_target_properties(${name} PROPERTIES EXCLUDE_FROM_ALL TRUE)
    return()
  endif()
  set(lock "")
  if(ARG_RESOURCE_LOCK)
    set(lock RESOURCE_LOCK ${ARG_RESOURCE_LOCK})
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 TEST_SUFFIX "${suffix}"
    PROPERTIES TIMEOUT ${ARG_TIMEOUT} LABELS ${ARG_TIER}
               ENVIRONMENT "CRMHUB_BINARY=${PROJECT_BINARY_DIR}/crmhub" ${lock})
endfunction()

# crmhub_fuzzer(NAME SOURCES... DEPS ...): one fuzz target over its corpus
# tests/fuzz/corpus/NAME. With CRMHUB_FUZZ: a libFuzzer binary in
# build/fuzz, part of the crmhub_fuzzers target that scripts/fuzz.sh builds
# and runs. Otherwise: the same code with a main that replays the corpus
# once, a ctest test (label fuzz), so that every build of the suite, under
# ASan and UBSan in CI, runs every input a fuzzer ever crashed on.
# SEEDS: files of the source tree that are seed inputs as they stand (the
# shipped configs for fuzz_config), so that no copy in the corpus drifts
# from them; the replay test reads them and scripts/fuzz.sh copies them in
# (from build/fuzz-seeds/NAME.txt).
function(crmhub_fuzzer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;SEEDS" ${ARGN})
  set(seeds "")
  foreach(seed IN LISTS ARG_SEEDS)
    list(APPEND seeds ${PROJECT_SOURCE_DIR}/${seed})
  endforeach()
  if(CRMHUB_TSAN)
    return()  # the TSan build runs the threaded core's tests only
  endif()
  set(corpus ${CMAKE_CURRENT_SOURCE_DIR}/corpus/${name})
  if(CRMHUB_FUZZ)
    add_executable(${name} ${ARG_SOURCES})
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/fuzz)
    add_dependencies(crmhub_fuzzers ${name})
    if(seeds)  # beside build/fuzz, which holds the fuzz targets only
      list(JOIN seeds "\n" seed_lines)
      file(WRITE ${PROJECT_BINARY_DIR}/fuzz-seeds/${name}.txt "${seed_lines}\n")
    endif()
  elseif(CRMHUB_TESTS)
    add_executable(${name} ${ARG_SOURCES} ${PROJECT_SOURCE_DIR}/tests/fuzz/replay_main.cc)
    add_test(NAME ${name}.corpus COMMAND ${name} ${corpus} ${seeds})
    set_tests_properties(${name}.corpus PROPERTIES LABELS fuzz TIMEOUT 300)
  else()
    return()
  endif()
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} crmhub_warnings)
  target_compile_definitions(${name} PRIVATE CRMHUB_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
endfunction()
