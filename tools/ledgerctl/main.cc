// ledgerctl: the partnerledger CLI. See README.md and `ledgerctl --help`.
#include "ledgerctl/commands.h"

int main(int argc, char** argv) { return partnerledger::ctl::Main(argc, argv); }
