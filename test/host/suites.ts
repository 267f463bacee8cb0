/* The in-host suites, in the order they run. */
import './activation.test';
import './views.test';
import './commands.test';
import './debug.test';
import './scale.test';
import './bench.test';
