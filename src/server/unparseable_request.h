// Requests whose bytes do not parse as the method's message.
//
// gRPC 1.51's callback API answers such a call UNIMPLEMENTED with an empty
// message: CallbackUnaryHandler / CallbackServerStreamingHandler::RunHandler
// (grpcpp/impl/codegen/server_callback_handlers.h) drop the status that
// SerializationTraits::Deserialize returned and substitute
// Status(UNIMPLEMENTED, ""). The handler is never called, so no service code
// can see the call. What gRPC does offer is a server interceptor: at
// POST_RECV_MESSAGE the received message is nullptr exactly when
// deserialization failed, and at PRE_SEND_STATUS the status may be replaced.
// This interceptor does both, so such a call is answered
//   INVALID_ARGUMENT "request is not a valid
//   partnerledger.v1.AppendEventsRequest"
// (the method's input type, from the generated descriptors), for every
// method of every service, including ones added later.
#ifndef PARTNERLEDGER_SERVER_UNPARSEABLE_REQUEST_H_
#define PARTNERLEDGER_SERVER_UNPARSEABLE_REQUEST_H_

#include <memory>
#include <string>

#include "grpcpp/support/server_interceptor.h"

namespace partnerledger::server {

// The message of the INVALID_ARGUMENT for an unparseable request to
// `method` ("/package.Service/Method"): "request is not a valid <input
// type>" ("request is not a valid request message" for a method the
// descriptors do not know).
std::string UnparseableRequestMessage(const char* method);

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewUnparseableRequestInterceptorFactory();

}  // namespace partnerledger::server

#endif  // PARTNERLEDGER_SERVER_UNPARSEABLE_REQUEST_H_
