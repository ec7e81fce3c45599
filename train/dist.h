/* train/dist.h: the older names of train/comm.h, for the classifier's and the language model's
 * own training loops until they move onto the one trainer (train/trainer.h). Nothing new uses
 * these names. */
#ifndef NR_MODELS_DIST_H
#define NR_MODELS_DIST_H

#include "train/comm.h"

typedef nr_comm nr_dist;
typedef nr_comm_pending nr_dist_pending;

#define NR_DIST_BUCKET_FLOATS NR_COMM_BUCKET_FLOATS
/* Language-model training compares the ranks' weights every this many steps. */
#define NR_DIST_LM_CHECK_EVERY 100

#define nr_dist_pending_free nr_comm_pending_free
#define nr_dist_isum_f32 nr_comm_isum_f32
#define nr_dist_isum_f64 nr_comm_isum_f64
#define nr_dist_ior_u64 nr_comm_ior_u64
#define nr_dist_wait nr_comm_wait
#define nr_dist_sum_f64 nr_comm_sum_f64
#define nr_dist_sum_i64 nr_comm_sum_i64
#define nr_dist_max_i64 nr_comm_max_i64
#define nr_dist_sum_grad nr_comm_sum_grad
#define nr_dist_allgather_i32 nr_comm_allgather_i32
#define nr_dist_alltoall_i32 nr_comm_alltoall_i32
#define nr_dist_bcast_f32 nr_comm_bcast_f32
#define nr_dist_checksum nr_comm_checksum
#define nr_dist_check_same nr_comm_check_same
#define nr_dist_agree nr_comm_agree
#define nr_dist_any nr_comm_any

#endif
