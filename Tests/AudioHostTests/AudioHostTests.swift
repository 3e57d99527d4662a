// The embedded host's tests: real jackd, real plugins, a real TCP client.
