"""The status page and dashboard: server-rendered HTML and SVG from the store and the running
monitor's last verdicts; no JavaScript and no build step (a meta refresh keeps it live)."""
