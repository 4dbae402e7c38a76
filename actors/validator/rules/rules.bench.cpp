// Throughput of the ledger rules on one core: blocks of 100 transfers applied to a
// state of 10,000 accounts, 100 masternodes and 21 validators (signatures checked by
// the direct verifier, and once more with a verifier that accepts everything, which
// isolates the rules' own cost), and receipt claims checked (250 receipts per claim).
#include <benchmark/benchmark.h>

#include "actors/validator/rules/test_chain.hpp"

using namespace stakecast;
using namespace stakecast::rules;
using rules::testing::test_chain;

namespace {

// Accepts every signature: for measuring what is not signature checking.
class trusting_verifier final : public core::verifier {
public:
  bool verify(const core::node_id&, core::byte_span, const core::signature&) const override {
    return true;
  }
};

constexpr std::size_t txs_per_block = 100;
constexpr std::size_t blocks_per_run = 10;

test_chain big_chain() {
  rules::testing::chain_shape shape;
  shape.validators = 21;
  shape.masternodes = 100;
  shape.users = 250;
  test_chain c{rules::testing::small_parameters(), shape};
  c.current().params.epoch_blocks = 1'000'000; // no epoch boundary inside the run
  auto& g = c.genesis_record();
  g.params.epoch_blocks = 1'000'000;
  for (std::uint32_t i = 0; i < 10'000; ++i) {
    core::node_id id;
    for (std::size_t b = 0; b < 4; ++b)
      id.bytes[b] = static_cast<std::uint8_t>(i >> (8 * b));
    id.bytes[31] = 0xee;
    g.accounts.push_back({id, 1'000});
  }
  c.reset();
  return c;
}

struct transfer_run {
  state start;
  std::vector<block> blocks;
};

// Blocks of 100 transfers from distinct senders to the 10,000 accounts.
transfer_run build_transfers() {
  auto c = big_chain();
  c.advance(1);
  transfer_run run{c.current(), {}};
  auto recipients = c.current().accounts.entries().begin();
  for (std::size_t b = 0; b < blocks_per_run; ++b) {
    std::vector<transaction> txs;
    for (std::size_t i = 0; i < txs_per_block; ++i) {
      if (++recipients == c.current().accounts.entries().end())
        recipients = c.current().accounts.entries().begin();
      txs.push_back(c.tx(c.user((b * txs_per_block + i) % 250), transfer_body{recipients->first, 1}));
    }
    auto blk = c.make_block(std::move(txs));
    if (c.commit_block(blk))
      std::abort();
    run.blocks.push_back(std::move(blk));
  }
  return run;
}

void apply_transfers(benchmark::State& bench, const core::verifier& signatures) {
  static const auto run = build_transfers();
  for (auto _ : bench) {
    bench.PauseTiming();
    state s = run.start;
    bench.ResumeTiming();
    for (const auto& b : run.blocks)
      if (apply(s, b, signatures))
        bench.SkipWithError("block rejected");
  }
  bench.SetItemsProcessed(static_cast<std::int64_t>(bench.iterations() * blocks_per_run
                                                    * txs_per_block));
}

void BM_apply_transfer_blocks(benchmark::State& bench) {
  core::direct_verifier direct;
  apply_transfers(bench, direct);
}
BENCHMARK(BM_apply_transfer_blocks)->Unit(benchmark::kMillisecond);

void BM_apply_transfer_blocks_without_signatures(benchmark::State& bench) {
  trusting_verifier trusting;
  apply_transfers(bench, trusting);
}
BENCHMARK(BM_apply_transfer_blocks_without_signatures)->Unit(benchmark::kMillisecond);

void BM_check_receipt_claim(benchmark::State& bench) {
  auto c = big_chain();
  core::content_id content;
  content.bytes[0] = 1;
  std::vector<transaction> setup{c.tx(c.user(0), publish_content_body{content, {}, 1, 100, 8})};
  for (std::size_t v = 0; v < 250; ++v)
    setup.push_back(c.tx(c.user(v), open_deposit_body{100'000}));
  if (c.commit(setup))
    std::abort();
  auto holder = assigned_masternodes(c.current(), content).front();
  std::size_t m = 0;
  while (c.masternode(m).public_key() != holder)
    ++m;
  claim_receipts_body body;
  for (std::size_t v = 0; v < 250; ++v) {
    const auto& viewer = c.user(v);
    auto deposit = deposit_id(viewer.public_key(), nonce(c.current(), viewer.public_key()) - 1);
    receipt r{c.chain(), deposit, {}, holder, content, 1 << 20, {}};
    sign(r, viewer);
    body.receipts.push_back(r);
  }
  auto tx = c.tx(c.masternode(m), body);
  core::direct_verifier direct;
  for (auto _ : bench)
    if (check_tx(c.current(), tx, direct))
      bench.SkipWithError("claim rejected");
  bench.SetItemsProcessed(static_cast<std::int64_t>(bench.iterations() * body.receipts.size()));
}
BENCHMARK(BM_check_receipt_claim)->Unit(benchmark::kMillisecond);

} // namespace
