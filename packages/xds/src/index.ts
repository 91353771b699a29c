// Public surface of @trellis/xds. Not implemented yet.
export const implemented = false;
