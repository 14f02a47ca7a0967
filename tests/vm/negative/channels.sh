# harness self-test: artifacts, stream and exit status plumbing
printf 'line1\nline2\n' > /tmp/a.txt
dd if=/dev/urandom of=/tmp/b.bin bs=1k count=3 2>/dev/null
head -c 3072 /tmp/b.bin | sha256sum | cut -d' ' -f1 > /tmp/b.sha
ot_artifact text.txt /tmp/a.txt
ot_artifact random.bin /tmp/b.bin
ot_artifact random.sha /tmp/b.sha
ot_stream "stream line one"
ot_stream_cmd echo "stream line two"
ot_ok channels
