// Public surface of @trellis/netsys. Not implemented yet.
export const implemented = false;
