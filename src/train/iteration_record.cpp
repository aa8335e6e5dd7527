#include <cmath>
#include <nlohmann/json.hpp>

#include "dals/train/trainer.hpp"

namespace dals {

std::string IterationRecord::to_json() const {
  nlohmann::json j = {{"iteration", iteration},
                      {"train_rmse", train_rmse},
                      {"objective", objective},
                      {"user_seconds", user_seconds},
                      {"item_seconds", item_seconds},
                      {"exchange_seconds", exchange_seconds},
                      {"exchange_bytes_sent", exchange_bytes_sent},
                      {"exchange_bytes_received", exchange_bytes_received},
                      {"user_half_bytes_sent", user_half_bytes_sent},
                      {"user_half_bytes_received", user_half_bytes_received},
                      {"item_half_bytes_sent", item_half_bytes_sent},
                      {"item_half_bytes_received", item_half_bytes_received},
                      {"held_out_bytes_sent", held_out_bytes_sent},
                      {"held_out_bytes_received", held_out_bytes_received},
                      {"gflops", gflops},
                      {"gather_seconds", gather_seconds},
                      {"gram_seconds", gram_seconds},
                      {"factor_seconds", factor_seconds},
                      {"ridge_retries", ridge_retries}};
  auto number_or_null = [](double v) { return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v); };
  if (implicit) {  // no RMSE: every cell is a preference
    j.erase("train_rmse");
    j["loss"] = objective;
    j["eval_k"] = eval_k;
    j["precision"] = number_or_null(precision);
    j["recall"] = number_or_null(recall);
    j["ndcg"] = number_or_null(ndcg);
    return j.dump();
  }
  j["test_rmse"] = number_or_null(test_rmse);
  j["test_mae"] = number_or_null(test_mae);
  if (!std::isnan(validation_rmse)) {  // --validation-fraction only: other runs' records are as before
    j["validation_rmse"] = validation_rmse;
    j["validation_mae"] = validation_mae;
  }
  return j.dump();
}

}  // namespace dals
