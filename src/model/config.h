/* config.h — hyperparameters from Mistral's params.json and HF's config.json, validated. */
#ifndef NEMO_MODEL_CONFIG_H
#define NEMO_MODEL_CONFIG_H

#include "core/core.h"

/* The longest context the engine allows unless asked: NeMo's trained 128k. Configs that claim
 * more (HF's 1,024,000) are clamped, never trusted for allocation. */
#define NEMO_MAX_TRAINED_CTX 131072

nemo_status nemo_config_from_params_json(const char *path, nemo_config *cfg, nemo_error *err);
nemo_status nemo_config_from_hf_json(const char *path, nemo_config *cfg, nemo_error *err);
/* Checks ranges and internal consistency; `source` names the file in messages. */
nemo_status nemo_config_validate(const nemo_config *cfg, const char *source, nemo_error *err);

#endif
