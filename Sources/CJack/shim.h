#ifndef MARLISE_CJACK_SHIM_H
#define MARLISE_CJACK_SHIM_H
#include <jack/jack.h>
#include <jack/midiport.h>
#include <jack/transport.h>

/// jack_client_open is variadic (the server name follows the options), which Swift cannot call:
/// this fixed-arity wrapper passes the server name explicitly.
static inline jack_client_t *marlise_jack_client_open(const char *client_name, jack_options_t options,
                                                      jack_status_t *status, const char *server_name) {
    return jack_client_open(client_name, options, status, server_name);
}
#endif
