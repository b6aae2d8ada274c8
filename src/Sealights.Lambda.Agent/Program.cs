// Entry point placeholder; the extension lifecycle is wired in Lifecycle/.
return 0;
