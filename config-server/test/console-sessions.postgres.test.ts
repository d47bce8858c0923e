// The same suite on PostgreSQL: both engines must behave alike. Its tests start their servers after this file has
// chosen the engine.
import { useEngine } from './helpers';
import './console-sessions.test';

useEngine('postgres');
