// Validation of training options (see train_options.h).
#include "tandem/train/train_options.h"

namespace tandem {

Status TrainOptions::validate() const {
  TANDEM_TRY(model.validate());
  TANDEM_TRY(adamw.validate());
  TANDEM_TRY(schedule.validate());
  if (batch_size <= 0 || grad_accum <= 0)
    return make_error("train options: batch size ", batch_size, " and gradient accumulation ", grad_accum,
                      " must be positive");
  if (seq_len < 0 || seq() > model.ctx)
    return make_error("train options: sequence length ", seq_len, " must be in 1..ctx (", model.ctx, "), or 0 for ctx");
  if (!(grad_clip >= 0.0f)) return make_error("train options: gradient clip ", grad_clip, " must be >= 0");
  if (threads < 0) return make_error("train options: threads ", threads, " must be >= 0");
  return ok_status();
}

}  // namespace tandem
