// Includes cpp-httplib as Debian builds it. Debian's libcpp-httplib-dev is a
// compiled library (libcpp-httplib.so) whose class layouts depend on these
// macros (its pkg-config Cflags); every includer must see the same ones.
#ifndef PARTNERLEDGER_UTIL_HTTPLIB_CONFIG_H_
#define PARTNERLEDGER_UTIL_HTTPLIB_CONFIG_H_

#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
#define CPPHTTPLIB_OPENSSL_SUPPORT
#endif
#ifndef CPPHTTPLIB_ZLIB_SUPPORT
#define CPPHTTPLIB_ZLIB_SUPPORT
#endif
#ifndef CPPHTTPLIB_BROTLI_SUPPORT
#define CPPHTTPLIB_BROTLI_SUPPORT
#endif
#include <httplib.h>

#endif  // PARTNERLEDGER_UTIL_HTTPLIB_CONFIG_H_
