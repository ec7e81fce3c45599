/* cli/signals.c: the program's one stop flag. SIGINT and SIGTERM set it; training calls read it
 * (nlprnn_train_ctl_set_stop), write a checkpoint after the current batch and return
 * NLPRNN_E_INTERRUPTED, which the program turns into exit status 130. A second signal gets the
 * default action (the program ends at once). */
#include <signal.h>
#include <string.h>

#include "cli.h"

static volatile int stop_flag; /* written by the handler (int is sig_atomic_t on Linux) */

static void on_signal(int sig) {
    (void)sig;
    stop_flag = 1;
}

const volatile int *cli_catch_stop_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND; /* a second signal gets the default action */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    return &stop_flag;
}
