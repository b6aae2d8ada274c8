namespace Sealights.Lambda.Emulator.Environment;

/// <summary>An API call the environment refuses: status code and Lambda's error body.</summary>
internal sealed record ApiError(int StatusCode, string ErrorType, string ErrorMessage);
