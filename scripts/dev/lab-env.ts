// The names of `make dev`'s lab, set before test/lab/lab.ts is loaded (it
// reads JMP_LAB_PREFIX once): its own namespaces, bridge, /24 and state dir,
// so it never meets a test lab. Import this module first.
process.env.JMP_LAB_PREFIX ||= 'jdv-';
process.env.JMP_LAB_NET ||= '10.239.0';
process.env.JMP_LAB_DIR ||= '/run/jmp-dev-lab';
