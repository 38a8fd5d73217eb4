/* Internals of the model and framework tables shared with the market. */
#ifndef GPURENT_MODELS_INTERNAL_H
#define GPURENT_MODELS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "gpurent/models.h"

/* Longest normalised name kept (names are at most GPURENT_NAME_MAX - 1 bytes). */
#define ML_NORM_MAX GPURENT_NAME_MAX

/* Normalise `name` into `out` (lower-case ASCII letters and digits only);
 * 0 when nothing is left or it does not fit. */
int ml_name_norm(const char *name, char *out, size_t cap);
/* Keys of the name index that name two different targets (0 for a sound table). */
uint32_t ml_model_key_conflicts(void);
/* The canonical id of the one model `name` names (an id, driver name,
 * alias or one-member family), or NULL. */
const char *ml_model_canonical(const char *name);
/* 1 when the build ships code for capability `cc` (x 10). */
int ml_framework_supports(const gpurent_framework *fw, uint32_t cc);
/* The tables' canonical encodings (docs/models.md). */
int ml_model_table_encode(gpurent_buf *out);
int ml_framework_table_encode(gpurent_buf *out);

#endif
