// The web console's files (src/http/console/), embedded in the binary at
// build time (embed_assets.cmake), so ledgerd serves them with no files to
// install and no third-party code or CDN.
#ifndef PARTNERLEDGER_HTTP_CONSOLE_ASSETS_H_
#define PARTNERLEDGER_HTTP_CONSOLE_ASSETS_H_

#include <string_view>
#include <vector>

namespace partnerledger::http {

struct ConsoleAsset {
  const char* path;          // "/", "/console/app.js"
  const char* content_type;  // "text/html; charset=utf-8"
  std::string_view body;
};

const std::vector<ConsoleAsset>& ConsoleAssets();

}  // namespace partnerledger::http

#endif  // PARTNERLEDGER_HTTP_CONSOLE_ASSETS_H_
