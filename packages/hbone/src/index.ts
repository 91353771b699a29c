// Public surface of @trellis/hbone. Not implemented yet.
export const implemented = false;
