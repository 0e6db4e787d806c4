// grpc.health.v1.Health/Check for tests, without generated code.
#ifndef PARTNERLEDGER_TESTS_HEALTH_CHECK_H_
#define PARTNERLEDGER_TESTS_HEALTH_CHECK_H_

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

namespace partnerledger::testing {

// The whole server's status: 1 SERVING, 2 NOT_SERVING; -1 when the call
// fails or the answer does not parse. Sends an empty HealthCheckRequest; the
// response is field 1 (status) as a varint.
inline int HealthStatus(const std::shared_ptr<grpc::Channel>& channel) {
  grpc::GenericStub generic(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Slice empty;
  grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  generic.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(),
                    &request, &response,
                    [&](grpc::Status s) { done.set_value(s); });
  grpc::Status s = done.get_future().get();
  if (!s.ok()) return -1;
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return -1;
  std::string bytes;
  for (const grpc::Slice& sl : slices) {
    bytes.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
  }
  if (bytes.size() != 2 || bytes[0] != 0x08) return -1;
  return bytes[1];
}

}  // namespace partnerledger::testing

#endif  // PARTNERLEDGER_TESTS_HEALTH_CHECK_H_
