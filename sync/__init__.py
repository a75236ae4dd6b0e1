"""Everything that crosses the network: protocol v1 (protocol, signing), the unit's client
(client, service, provision, roster, health, state), flash-disk bundles (bundle), targets, and the
reference central server (server/). docs/sync-protocol.md describes the wire."""
