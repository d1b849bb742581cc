/* A shared library the test package ships in lib/ (or, planted fault, leaves out). */
const char *greet(void) { return "hello from libgreet"; }
