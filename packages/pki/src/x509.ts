// The one place @peculiar/x509 is initialised: its dependency injection needs reflect-metadata loaded
// first, and it must sign and verify with Node's WebCrypto. Every module imports x509 from here.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };
