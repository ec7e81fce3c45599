/* common/deprecated.c: the names of 0.1 that 0.2 renamed, and the translator's first names (on
 * main under 0.2), kept for one release as thin wrappers over the new ones (docs/api.md, "Changes
 * in 0.2"). Only the public API is used here; the file goes away with the next minor version.
 * (The deprecated functions whose old shape needs the internals stay beside their replacement:
 * nlprnn_model_evaluate, nlprnn_tokenizer_options_set_int/_get_int/_set_str, nlprnn_model_file_info.
 * No current function calls a deprecated one.) */
#include "nlprnn.h"

int nlprnn_model_load(const char *path_or_name, nlprnn_classifier **out, nlprnn_error *err) {
    return nlprnn_classifier_load(path_or_name, out, err);
}
void nlprnn_model_free(nlprnn_classifier *m) { nlprnn_classifier_free(m); }
int nlprnn_model_num_classes(const nlprnn_classifier *m) { return nlprnn_classifier_num_classes(m); }
const char *nlprnn_model_label(const nlprnn_classifier *m, int i) { return nlprnn_classifier_label(m, i); }
const char *nlprnn_model_data_label(const nlprnn_classifier *m, int i) {
    return nlprnn_classifier_data_label(m, i);
}
int nlprnn_model_relabel(const char *path_or_name, const char *label_names, const char *out_path,
                         nlprnn_error *err) {
    return nlprnn_classifier_relabel(path_or_name, label_names, out_path, err);
}
int nlprnn_model_max_tokens(const nlprnn_classifier *m) { return nlprnn_classifier_max_tokens(m); }
const nlprnn_tokenizer *nlprnn_model_tokenizer(const nlprnn_classifier *m) {
    return nlprnn_classifier_tokenizer(m);
}
const char *nlprnn_model_path(const nlprnn_classifier *m) { return nlprnn_classifier_path(m); }
const char *nlprnn_model_summary(const nlprnn_classifier *m) { return nlprnn_classifier_summary(m); }

nlprnn_classifier_ctx *nlprnn_context_create(const nlprnn_classifier *m, int threads) {
    nlprnn_classifier_ctx *c = NULL;
    nlprnn_classifier_ctx_create(m, threads, &c, NULL);
    return c;
}
void nlprnn_context_free(nlprnn_classifier_ctx *ctx) { nlprnn_classifier_ctx_free(ctx); }

nlprnn_classifier_params *nlprnn_train_params_new(void) {
    nlprnn_classifier_params *p = NULL;
    nlprnn_classifier_params_create(&p, NULL);
    return p;
}
void nlprnn_train_params_free(nlprnn_classifier_params *p) { nlprnn_classifier_params_free(p); }
int nlprnn_train_params_set(nlprnn_classifier_params *p, const char *name, const char *value,
                            nlprnn_error *err) {
    return nlprnn_classifier_params_set(p, name, value, err);
}
int nlprnn_train_params_get(const nlprnn_classifier_params *p, const char *name, char *buf, size_t cap,
                            nlprnn_error *err) {
    return nlprnn_classifier_params_get(p, name, buf, cap, err);
}

nlprnn_lm_params *nlprnn_lm_params_new(void) {
    nlprnn_lm_params *p = NULL;
    nlprnn_lm_params_create(&p, NULL);
    return p;
}

nlprnn_tokenizer_params *nlprnn_tokenizer_options_create(void) {
    nlprnn_tokenizer_params *p = NULL;
    nlprnn_tokenizer_params_create(&p, NULL);
    return p;
}
void nlprnn_tokenizer_options_free(nlprnn_tokenizer_params *p) { nlprnn_tokenizer_params_free(p); }

int nlprnn_series_read_csv(nlprnn_series **out, const char *path, const char *const *columns,
                           int ncolumns, nlprnn_error *err) {
    return nlprnn_series_load_csv(path, columns, ncolumns, out, err);
}
int nlprnn_series_from_values(nlprnn_series **out, const double *values, size_t n, int nfeatures,
                              const char *const *names, nlprnn_error *err) {
    return nlprnn_series_create(values, n, nfeatures, names, out, err);
}
nlprnn_forecaster_params *nlprnn_forecast_params_new(void) {
    nlprnn_forecaster_params *p = NULL;
    nlprnn_forecaster_params_create(&p, NULL);
    return p;
}
void nlprnn_forecast_params_free(nlprnn_forecaster_params *p) { nlprnn_forecaster_params_free(p); }
int nlprnn_forecast_params_set(nlprnn_forecaster_params *p, const char *name, const char *value,
                               nlprnn_error *err) {
    return nlprnn_forecaster_params_set(p, name, value, err);
}
int nlprnn_forecast_params_get(const nlprnn_forecaster_params *p, const char *name, char *buf,
                               size_t cap, nlprnn_error *err) {
    return nlprnn_forecaster_params_get(p, name, buf, cap, err);
}

/* The translator's first names (nlprnn_translate_params/_ctx/_opt/_progress_fn and their
 * functions), on main under 0.2 before the handle's own name was used for them. */
int nlprnn_translate_params_create(nlprnn_translator_params **out, nlprnn_error *err) {
    return nlprnn_translator_params_create(out, err);
}
void nlprnn_translate_params_free(nlprnn_translator_params *p) { nlprnn_translator_params_free(p); }
int nlprnn_translate_params_set(nlprnn_translator_params *p, const char *name, const char *value,
                                nlprnn_error *err) {
    return nlprnn_translator_params_set(p, name, value, err);
}
int nlprnn_translate_params_get(const nlprnn_translator_params *p, const char *name, char *buf,
                                size_t cap, nlprnn_error *err) {
    return nlprnn_translator_params_get(p, name, buf, cap, err);
}
int nlprnn_translate_param_info(int i, const char **name, const char **def, const char **help,
                                char *range, size_t cap, nlprnn_error *err) {
    return nlprnn_translator_param_info(i, name, def, help, range, cap, err);
}
int nlprnn_translate_ctx_create(const nlprnn_translator *t, nlprnn_translator_ctx **out,
                                nlprnn_error *err) {
    return nlprnn_translator_ctx_create(t, out, err);
}
void nlprnn_translate_ctx_free(nlprnn_translator_ctx *ctx) { nlprnn_translator_ctx_free(ctx); }
int nlprnn_translate_ctx_set(nlprnn_translator_ctx *ctx, nlprnn_translator_opt opt, double value,
                             nlprnn_error *err) {
    return nlprnn_translator_ctx_set(ctx, opt, value, err);
}
