#!/bin/sh
# Writes deploy/jarvis.env and deploy/postgres.env with fresh secrets, from the examples beside
# them. An env file that exists is left alone.
set -eu
cd "$(dirname "$0")"
umask 077
if [ -e jarvis.env ] || [ -e postgres.env ]; then
	echo "deploy/jarvis.env or deploy/postgres.env exists already; remove both to make new ones" >&2
	exit 1
fi
password=$(openssl rand -hex 24)
sed -e "s/CHANGE-ME-hex-password/$password/" \
	-e "s|^JARVIS_ARTIFACT_SECRET=.*|JARVIS_ARTIFACT_SECRET=$(openssl rand -hex 32)|" \
	-e "s|^JARVIS_WEBHOOK_SECRET=.*|JARVIS_WEBHOOK_SECRET=whsec_$(openssl rand -base64 32)|" \
	-e "s|^JARVIS_AUTH_TOKEN=.*|JARVIS_AUTH_TOKEN=$(openssl rand -hex 32)|" \
	jarvis.env.example >jarvis.env
sed -e "s/CHANGE-ME-hex-password/$password/" postgres.env.example >postgres.env
echo "wrote deploy/jarvis.env and deploy/postgres.env; JARVIS_AUTH_TOKEN is in deploy/jarvis.env"
