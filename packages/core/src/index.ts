// Public surface of @trellis/core. Not implemented yet.
export const implemented = false;
