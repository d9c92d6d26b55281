#!/usr/bin/env bash
# Install the Debian packages voiceguide needs; only what is missing, so it is quick to re-run.
#   espeak-ng           the default speech engine (pyttsx3 drives it)
#   libportaudio2       PortAudio, through which play streams to the sound card (sounddevice)
#   libasound2-dev gcc python3-dev  to build simpleaudio against ALSA (the fallback player)
#   python3-venv        for the virtual environment
#   alsa-utils          aplay, to check a sound card by hand
#   ffmpeg              export's encoders for MP3 (fast, on every core), Ogg, Opus, M4A/M4B;
#                       the tests read files back with ffprobe
#   sox                 the tests cross-check loudness; the benchmarks compare pipelines
#   dbus playerctl      the MPRIS tests: a private session bus, and the real client that headsets,
#                       media keys and phone remotes stand behind
set -euo pipefail

packages=(espeak-ng libespeak-ng1 libportaudio2 libasound2-dev alsa-utils gcc python3-dev python3-venv
          ffmpeg sox dbus playerctl)

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "voiceguide needs these system packages: ${missing[*]}" >&2
    echo "install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
