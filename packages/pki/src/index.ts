// Public surface of @trellis/pki. Not implemented yet.
export const implemented = false;
