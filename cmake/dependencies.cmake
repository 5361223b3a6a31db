# Every dependency is a Debian package (scripts/bootstrap.sh installs them).
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED)
find_package(CURL REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(pugixml REQUIRED)
find_package(LibXml2 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET rdkafka)
pkg_check_modules(LIBZIP REQUIRED IMPORTED_TARGET libzip)
if(CRMHUB_JEMALLOC AND NOT CRMHUB_SANITIZE AND NOT CRMHUB_TSAN AND NOT CRMHUB_FUZZ)
  pkg_check_modules(JEMALLOC IMPORTED_TARGET jemalloc)
  if(NOT JEMALLOC_FOUND)
    message(FATAL_ERROR "jemalloc not found: install libjemalloc-dev (scripts/bootstrap.sh) "
                        "or configure with -DCRMHUB_JEMALLOC=OFF")
  endif()
endif()
if(CRMHUB_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()

# Boost.Asio/Beast are header-only here; these definitions keep them lean and
# make every asio type use the same executor model.
add_library(crmhub_asio INTERFACE)
target_link_libraries(crmhub_asio INTERFACE Boost::headers Threads::Threads OpenSSL::SSL
                      OpenSSL::Crypto)
target_compile_definitions(crmhub_asio INTERFACE BOOST_ASIO_NO_DEPRECATED
                           BOOST_BEAST_USE_STD_STRING_VIEW BOOST_ASIO_DISABLE_CONCEPTS)
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  # Asio looks for clang's coroutines in libc++'s <experimental/coroutine>;
  # with libstdc++ (Debian's clang for the fuzz and TSan builds) they are
  # the standard <coroutine>, which clang implements.
  target_compile_definitions(crmhub_asio INTERFACE BOOST_ASIO_HAS_CO_AWAIT=1)
endif()
