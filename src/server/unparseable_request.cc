#include "server/unparseable_request.h"

#include <string_view>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/support/interceptor.h"

namespace partnerledger::server {
namespace {

using grpc::experimental::InterceptionHookPoints;

// One per call (gRPC creates it with the call and deletes it at the end).
class UnparseableRequestInterceptor final
    : public grpc::experimental::Interceptor {
 public:
  explicit UnparseableRequestInterceptor(const char* method)
      : method_(method) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* m) override {
    if (m->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_MESSAGE) &&
        m->GetRecvMessage() == nullptr) {
      unparseable_ = true;
    }
    if (m->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS) &&
        unparseable_ &&
        m->GetSendStatus().error_code() == grpc::StatusCode::UNIMPLEMENTED) {
      m->ModifySendStatus(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                       UnparseableRequestMessage(method_)));
    }
    m->Proceed();
  }

 private:
  const char* method_;
  bool unparseable_ = false;
};

class Factory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new UnparseableRequestInterceptor(info->method());
  }
};

}  // namespace

std::string UnparseableRequestMessage(const char* method) {
  // "/partnerledger.v1.EventStoreService/AppendEvents" ->
  // "partnerledger.v1.EventStoreService.AppendEvents".
  std::string name(method != nullptr ? method : "");
  if (!name.empty() && name[0] == '/') name.erase(0, 1);
  if (const size_t slash = name.rfind('/'); slash != std::string::npos) {
    name[slash] = '.';
  }
  const google::protobuf::MethodDescriptor* d =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
          name);
  return absl::StrCat("request is not a valid ",
                      d != nullptr ? d->input_type()->full_name()
                                   : std::string("request message"));
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewUnparseableRequestInterceptorFactory() {
  return std::make_unique<Factory>();
}

}  // namespace partnerledger::server
