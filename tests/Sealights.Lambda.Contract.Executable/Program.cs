using System.Text;
using Amazon.Lambda.Core;

// A minimal custom runtime loop over the Runtime API: next, then response, forever.
var api = Environment.GetEnvironmentVariable("AWS_LAMBDA_RUNTIME_API")
    ?? throw new InvalidOperationException("AWS_LAMBDA_RUNTIME_API is not set: start this function through Lambda or an emulator.");
using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false })
{
    BaseAddress = new Uri($"http://{api}/2018-06-01/"),
    Timeout = Timeout.InfiniteTimeSpan,
};
LambdaLogger.Log("executable function started\n");
while (true)
{
    using var next = await http.GetAsync("runtime/invocation/next");
    next.EnsureSuccessStatusCode();
    var requestId = next.Headers.GetValues("Lambda-Runtime-Aws-Request-Id").First();
    var payload = await next.Content.ReadAsStringAsync();
    using var body = new StringContent($"executable:{payload}", Encoding.UTF8);
    using var posted = await http.PostAsync($"runtime/invocation/{requestId}/response", body);
    posted.EnsureSuccessStatusCode();
}
